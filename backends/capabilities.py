"""The capabilities a backend may declare.

A spec names the capabilities it needs; a backend that does not declare one of them gets the verdict
"unsupported" for that spec instead of a failure, and the run's coverage (specs run / total) shows it.
Declare only what the engine really has: a declared capability is a promise the specs hold you to.
"""

AUTOGRAD = "autograd"
GRAD_MODE = "grad_mode"
GRAPH = "graph"
GRAPH_NAMES = "graph.names"
INPLACE = "inplace"
VERSION_COUNTER = "version_counter"
DETACH = "detach"
NUMPY = "numpy"
NN = "nn"
RESNET18 = "models.resnet18"
PRETRAINED = "models.pretrained"
SGD = "optim.sgd"

DESCRIPTIONS = {
    AUTOGRAD: "reverse-mode gradients: requires_grad, backward() with an optional gradient, .grad accumulation",
    GRAD_MODE: "no_grad() as a context manager and as a decorator",
    GRAPH: "is_leaf, grad_fn on results (None on leaves) and grad_fn.next_functions",
    GRAPH_NAMES: "grad_fn names follow torch's (SumBackward0, AddBackward0, AccumulateGrad, ...)",
    INPLACE: "in-place operations (add_, zero_, fill_, slice assignment) and .data",
    VERSION_COUNTER: "tensor._version counts in-place changes; a modified saved tensor fails at backward",
    DETACH: "detach() returns a tensor that shares storage and does not track gradients",
    NUMPY: "numpy(), item(), tolist() and cpu() with torch's refusals",
    NN: "nn.Linear, nn.Conv2d and nn.Sequential with named_parameters()",
    RESNET18: "models.resnet18() whose fc can be replaced by nn.Linear",
    PRETRAINED: "models.resnet18(weights=...) and the deprecated pretrained=True, from a local state dict",
    SGD: "optim.SGD with lr, momentum, param_groups, zero_grad() and step()",
}

ALL = frozenset(DESCRIPTIONS)
