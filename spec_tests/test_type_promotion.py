"""Type promotion: what a Python number does to a tensor's dtype and precision (PyTorch docs, "Type promotion")."""

import numpy as np

from backends import capabilities as cap
from conformance.catalogue import VALUE, spec

#: the largest relative difference from NumPy's float64 result that float64 arithmetic leaves (a few units in the
#: last place); a Python number rounded to float32 first is off by about 1e-8
FLOAT64_RTOL = 4 * np.finfo(np.float64).eps


@spec(
    "promotion.python-scalar-float64",
    sources=["docs:tensor_attributes#type-promotion-doc"],
    needs=[cap.FLOAT64],
    kind=VALUE,
)
def test_python_float_operand_is_computed_in_float64(engine):
    """A Python number does not lower the dtype of a float64 tensor it meets: "if there are no higher-category
    zero-dim operands, we promote to a type with sufficient size and category to hold all dimensioned operands".
    The operation is computed in float64, with the number as it is: ``x * 0.8`` equals NumPy's float64 product,
    not the product with 0.8 rounded to float32."""
    data = np.array([1.0, 3.0, -2.5])
    x = engine.tensor64(data)
    results = {
        "x * 0.8": (x * 0.8, data * 0.8),
        "0.3 * x": (0.3 * x, 0.3 * data),
        "x + 0.1": (x + 0.1, data + 0.1),
        "x / 3.0": (x / 3.0, data / 3.0),
    }
    for expression, (result, expected) in results.items():
        values = engine.to_numpy(result)
        assert values.dtype == np.float64, f"{expression} is {values.dtype}, not float64"
        np.testing.assert_allclose(values, expected, rtol=FLOAT64_RTOL, atol=0, err_msg=expression)


@spec(
    "promotion.python-scalar-keeps-float32", sources=["docs:tensor_attributes#type-promotion-doc"], needs=[], kind=VALUE
)
def test_python_float_operand_keeps_a_float32_tensor_float32(engine):
    """A Python number does not raise the dtype of a float32 tensor it meets either: "if a zero-dimension tensor
    operand has a higher category than dimensioned operands, we promote to a type with sufficient size and
    category to hold all zero-dim tensor operands of that category"; a Python float is of the tensor's category,
    so ``x * 0.8`` on a float32 ``x`` is float32, its values the float32 product."""
    data = np.array([1.0, 3.0, -2.5], dtype=np.float32)
    x = engine.tensor(data)
    for expression, result in {"x * 0.8": x * 0.8, "0.3 * x": 0.3 * x, "x + 0.1": x + 0.1}.items():
        values = engine.to_numpy(result)
        assert values.dtype == np.float32, f"{expression} is {values.dtype}, not float32"
    np.testing.assert_allclose(engine.to_numpy(x * 0.8), data * np.float32(0.8), rtol=np.finfo(np.float32).eps)


@spec(
    "promotion.zero-dim-tensor-does-not-promote",
    sources=["docs:tensor_attributes#type-promotion-doc"],
    needs=[cap.FLOAT64, cap.TENSOR_MATH],
    kind=VALUE,
)
def test_zero_dim_tensor_of_the_same_category_does_not_promote(engine):
    """ "If there are no higher-category zero-dim operands, we promote to a type with sufficient size and category
    to hold all dimensioned operands": a float32 tensor times a 0-d float64 tensor is float32, a float64 tensor
    plus a 0-d float32 tensor is float64, and two dimensioned operands of float32 and float64 give float64."""
    float32, float64 = engine.tensor([1.0, 3.0, -2.5]), engine.tensor64([0.5, 2.0, 4.0])
    zero_dim32, zero_dim64 = engine.tensor(0.25), engine.tensor64(0.75)
    results = {
        "float32 tensor * 0-d float64": (float32 * zero_dim64, np.float32),
        "float64 tensor + 0-d float32": (float64 + zero_dim32, np.float64),
        "float32 tensor * float64 tensor": (float32 * float64, np.float64),
    }
    for expression, (result, dtype) in results.items():
        assert engine.to_numpy(result).dtype == dtype, f"{expression} is {engine.to_numpy(result).dtype}, not {dtype}"
