"""Benign variants (backends/benign.py): each computes differently from torch, correctly, and passes every spec."""

import numpy as np
import pytest
import torch

from backends import UnknownBackend, resolve
from backends.benign import VARIANTS, round_to_tf32
from backends.registry import known_backends
from conformance.catalogue import SPEC_DIR
from conformance.gradcheck import as_shipped
from tests.test_mutants import assert_every_spec_holds, run_specs

aten = torch.ops.aten


def test_tf32_rounding_keeps_ten_mantissa_bits_to_nearest_even():
    ulp = 2.0**-10
    values = torch.tensor([1.0, 1 + ulp / 2, 1 + 1.5 * ulp, 1 + ulp + ulp / 4, -(1 + ulp / 2 + 2**-20), 3.0e38])
    expected = torch.tensor([1.0, 1.0, 1 + 2 * ulp, 1 + ulp, -(1 + ulp), 3.0e38])
    rounded = round_to_tf32(values)
    torch.testing.assert_close(rounded[:5], expected[:5], rtol=0, atol=0)
    assert abs(rounded[5] / 3.0e38 - 1) < ulp
    special = torch.tensor([float("inf"), float("-inf"), float("nan")])
    assert torch.equal(round_to_tf32(special)[:2], special[:2]) and torch.isnan(round_to_tf32(special)[2])
    assert round_to_tf32(values.double()).dtype == torch.float64  # other dtypes pass as they are


def operands():
    generator = torch.Generator().manual_seed(0)
    matrices = [torch.randn(33, 65, generator=generator), torch.randn(65, 17, generator=generator)]
    return {
        "mm": (lambda a, b: a @ b, matrices),
        "conv": (
            lambda x, w: torch.nn.functional.conv2d(x, w, padding=1),
            [torch.randn(2, 6, 9, 9, generator=generator), torch.randn(5, 6, 3, 3, generator=generator)],
        ),
        "sum": (lambda x: x.sum(dim=0), [torch.randn(1001, 3, generator=generator)]),
    }


@pytest.mark.parametrize("operation", ["mm", "conv", "sum"])
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_variant_changes_rounding_not_values(variant, operation):
    """Inside its scope a variant's forward and backward differ from torch's in the last bits (it is exercised),
    and agree to the rounding its algorithm allows (it is correct). tf32 leaves sums alone."""
    backend = resolve(f"benign:{variant}")
    fn, inputs = operands()[operation]
    leaves = [tensor.clone().requires_grad_() for tensor in inputs]
    plain = fn(*leaves)
    plain_grads = torch.autograd.grad(plain, leaves, torch.ones_like(plain))
    with backend.spec_scope():
        changed = fn(*leaves)
        changed_grads = torch.autograd.grad(changed, leaves, torch.ones_like(changed))
    tolerance = 2e-3 if variant == "tf32" else 1e-5
    torch.testing.assert_close(changed, plain, rtol=tolerance, atol=tolerance * plain.abs().max().item())
    for got, want in zip(changed_grads, plain_grads, strict=True):
        torch.testing.assert_close(got, want, rtol=tolerance, atol=tolerance * want.abs().max().item())
    if variant == "tf32" and operation == "sum":
        assert torch.equal(changed, plain)
    else:
        assert not torch.equal(changed, plain)
        if operation != "sum":
            assert any(not torch.equal(got, want) for got, want in zip(changed_grads, plain_grads, strict=True))


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_variants_keep_the_scalars_and_dtype_of_addmm_and_sum(variant):
    generator = torch.Generator().manual_seed(1)
    bias, a, b = (torch.randn(*shape, generator=generator) for shape in ((3, 4), (3, 6), (6, 4)))
    x = torch.randn(5, 6, generator=generator)
    with resolve(f"benign:{variant}").spec_scope():
        product = torch.addmm(bias, a, b, beta=0.5, alpha=-2.0)
        total = x.sum(dim=1, dtype=torch.float64)
    torch.testing.assert_close(product, torch.addmm(bias, a, b, beta=0.5, alpha=-2.0), rtol=2e-3, atol=2e-3)
    assert total.dtype == torch.float64
    torch.testing.assert_close(total, x.sum(dim=1, dtype=torch.float64))


def test_oracle_computes_outside_the_engines_scope():
    a, b = operands()["mm"][1]
    with resolve("benign:tf32").spec_scope():
        engine_product = a @ b
        with as_shipped():
            oracle_product = a @ b
    assert torch.equal(oracle_product, a @ b)
    assert torch.equal(engine_product, round_to_tf32(a) @ round_to_tf32(b))


def test_split_k_sums_every_dimension_and_keeps_shapes():
    x = torch.randn(4, 5, 6, dtype=torch.float64)
    with resolve("benign:split-k").spec_scope():
        results = [x.sum(), x.sum(dim=(0, 2)), x.sum(dim=1, keepdim=True), x.sum(dim=[], keepdim=True)]
    expected = [x.sum(), x.sum(dim=(0, 2)), x.sum(dim=1, keepdim=True), x.sum(dim=[], keepdim=True)]
    for got, want in zip(results, expected, strict=True):
        assert got.shape == want.shape
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12)


def test_unknown_variant_lists_the_known_ones():
    with pytest.raises(UnknownBackend, match="known: float64-accumulation, split-k, tf32"):
        resolve("benign:fp8")
    assert "benign:tf32[:<device>]" in known_backends()


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_spec_passes_on_a_benign_variant(pytester, variant):
    """No false FAIL: a correct engine that rounds differently keeps every spec (the mutants prove each spec can
    still fail: tests/test_mutants.py)."""
    reports = run_specs(pytester, SPEC_DIR, f"--backend=benign:{variant}").getreports("pytest_runtest_logreport")
    assert_every_spec_holds(reports)
    assert sum(report.passed and report.when == "call" for report in reports) > 400
