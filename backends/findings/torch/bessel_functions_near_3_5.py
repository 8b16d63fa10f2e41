"""torch's float64 bessel_j0, bessel_j1, bessel_y0 and bessel_y1 lose digits as x approaches 5 (to 1e-10 at 3.5).

torch.special.bessel_j0 and bessel_j1 port Cephes' j0.c and j1.c. For x <= 5 Cephes divides by p1evl(z, RQ, 8), a
polynomial whose leading coefficient 1 is implicit; torch's port starts its Horner loop at 0 over the same 8
coefficients, so the z^8 term is dropped. The error grows with x: under 1e-14 up to x = 2, 9e-11 for J0 at x = 3.5
(1.6e6 units in the last place), 1e-8 at x = 5. The same kernels feed bessel_y0 and bessel_y1 for x <= 5 (Y1 off
by 6e-11 at 3.5).

The expected values are J0, J1, Y0 and Y1 to 30 digits (mpmath.besselj, mpmath.bessely). Observed on torch 2.15.0,
CPU, float64. Prints the observed and the expected values; exits 1 while an error exceeds 1e-13, 0 once all are
within it.
"""

import sys

import torch

print(f"torch {torch.__version__}")
EXPECTED = {
    "bessel_j0": {1.0: 0.765197686557966551449717526103, 3.4: -0.364295596762000453912237422875,
                  3.5: -0.380127739987263377378749304387},
    "bessel_j1": {1.0: 0.440050585744933515959682203719, 3.4: 0.179225851681507148032035286604,
                  3.5: 0.137377527362327185716131897184},
    "bessel_y0": {1.0: 0.0882569642156769579829267660235, 3.4: 0.22961533720963105418414446421,
                  3.5: 0.189021943920826506752045777516},
    "bessel_y1": {1.0: -0.781212821300288716547150000048, 3.4: 0.401015292108473502383476108225,
                  3.5: 0.410188417887511882872119683407},
}  # fmt: skip
wrong = 0
for name, values in EXPECTED.items():
    for x, expected in values.items():
        observed = getattr(torch.special, name)(torch.tensor(x, dtype=torch.float64)).item()
        right = abs(observed - expected) <= 1e-13
        wrong += not right
        print(
            f"torch.special.{name}({x}): observed {observed!r}, expected {expected!r}, error "
            f"{observed - expected:.2e}{'' if right else '  <- wrong'}"
        )
sys.exit(1 if wrong else 0)
