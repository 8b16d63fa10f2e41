"""Published dense peak throughput of known accelerators, per precision, in TFLOP/s.

Used to report what fraction of the device's peak a step achieves. Numbers are NVIDIA's published figures
without structured sparsity (the whitepapers' dense rates; datasheets quote tensor-core rates with sparsity,
twice these): ``fp32`` is the non-tensor-core FP32 rate, ``tf32`` and ``bf16`` are tensor-core
rates. A device not in the table gets no percentage: a guessed peak would make the number meaningless.
"""

from __future__ import annotations

import re

#: (full match on torch.cuda.get_device_name(), {precision: dense peak TFLOP/s})
PEAK_TFLOPS: tuple[tuple[str, dict[str, float]], ...] = (
    (r"NVIDIA H100 80GB HBM3", {"fp32": 67.0, "tf32": 494.7, "bf16": 989.4}),  # H100 SXM5
    (r"NVIDIA H100 PCIe", {"fp32": 51.2, "tf32": 378.0, "bf16": 756.0}),
    (r"NVIDIA H200", {"fp32": 67.0, "tf32": 494.7, "bf16": 989.4}),  # H200 SXM (NVL is a different part)
    (r"NVIDIA A100[- ](SXM4-(40|80)GB|PCIE-40GB|80GB PCIe)", {"fp32": 19.5, "tf32": 156.0, "bf16": 312.0}),
)


def peak_tflops(device_name: str, precision: str) -> float | None:
    """The device's dense peak for ``precision`` ("fp32", "tf32", "bf16"), or None when not known."""
    for pattern, peaks in PEAK_TFLOPS:
        if re.fullmatch(pattern, device_name.strip()):
            return peaks.get(precision)
    return None
