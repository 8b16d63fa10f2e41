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
FLOAT64 = "float64"
FUNCTIONAL = "nn.functional"
TENSOR_MATH = "tensor.math"
RETAIN_GRAD = "retain_grad"
RETAIN_GRAPH = "retain_graph"
AUTOGRAD_GRAD = "autograd.grad"
HOOKS = "hooks"
GRAD_MODE_SWITCHES = "grad_mode.switches"
INFERENCE_MODE = "inference_mode"
ANOMALY = "anomaly"
SAVED_TENSOR_HOOKS = "saved_tensor_hooks"
CUSTOM_FUNCTION = "custom_function"
THREADS = "threads"
DISTRIBUTED = "distributed"

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
    FLOAT64: "tensor64(): float64 tensors, so gradients can be checked against finite differences",
    FUNCTIONAL: "functional: conv2d, batch_norm, relu, max_pool2d, adaptive_avg_pool2d, linear, cross_entropy",
    TENSOR_MATH: "tensor methods log, sin, tanh, sigmoid, flatten, sum/mean over dims, @ and broadcasting",
    RETAIN_GRAD: "retain_grad() populates .grad of a non-leaf tensor",
    RETAIN_GRAPH: "backward(retain_graph=True); a second backward through a freed graph is an error",
    AUTOGRAD_GRAD: "autograd.grad(outputs, inputs, create_graph=...), including double backward",
    HOOKS: "tensor register_hook and module forward, forward-pre and full backward hooks, with removable handles",
    GRAD_MODE_SWITCHES: "set_grad_enabled(mode) and enable_grad() as context managers",
    INFERENCE_MODE: "inference_mode() and the refusal to record its tensors in autograd",
    ANOMALY: "autograd.detect_anomaly(): NaN in backward is an error naming the op and its forward traceback",
    SAVED_TENSOR_HOOKS: "autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook)",
    CUSTOM_FUNCTION: "autograd.Function with ctx.save_for_backward, saved_tensors and its version check",
    THREADS: "backward on independent graphs from several Python threads at once",
    DISTRIBUTED: "parallel.DistributedDataParallel over torch.distributed, rebuilt in each rank of a spawned group",
}

ALL = frozenset(DESCRIPTIONS)
