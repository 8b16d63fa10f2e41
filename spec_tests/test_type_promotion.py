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
