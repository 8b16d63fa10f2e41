"""Training-step benchmarks on pytest-benchmark: torchvision's resnet18 step as the seeds write it, its
variants, and the autograd engine's per-node overhead. Run with ``pytest benchmarks --backend=cuda``."""
