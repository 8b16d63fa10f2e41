"""Data-parallel training: torch's documented DistributedDataParallel contract.

Each spec spawns its own group of ``--world-size`` processes (default 2; gloo on the CPU, NCCL on CUDA, see
conformance.process_group), runs a rank function in every process, and compares what the ranks return with
the same computation done in this one process on the global batch (the oracle). Every rank starts from the
spec's seed, so it builds the model and draws the global batch exactly as this process does; rank ``r``
trains on the ``r``-th of ``world_size`` equal shards of the batch.
"""

import numpy as np
import pytest

from backends import BackendUnavailable
from backends import capabilities as cap
from conformance import seeding
from conformance.catalogue import VALUE, spec
from conformance.plugin import NOT_APPLICABLE
from conformance.process_group import GroupFailed, run_ranks

DDP_DOCS = "docs:generated/torch.nn.parallel.DistributedDataParallel"
DDP_NOTES = "docs:notes/ddp#internal-design"
LR, MOMENTUM = 1e-2, 0.9
ROWS_PER_RANK = 2


@pytest.fixture
def world_size(request):
    """The processes of each spec's group: ``--world-size``."""
    return request.config.getoption("world_size")


@pytest.fixture
def on_ranks(engine, world_size, request):
    """``on_ranks(function, *args)``: the results of ``function`` on every rank of a group spawned for this
    spec; a rank that fails or hangs fails the spec with its traceback."""
    try:
        engine.for_rank(world_size - 1, world_size)
    except BackendUnavailable as error:
        pytest.skip(f"{NOT_APPLICABLE}: a group of {world_size} needs a device per rank: {error}")

    def run(function, *args, distinct_seeds=False):
        seed_key = seeding.seed_key(request.node)
        try:
            return run_ranks(
                engine, function, *args, world_size=world_size, seed_key=seed_key, distinct_seeds=distinct_seeds
            )
        except GroupFailed as error:
            failure = str(error)
        pytest.fail(failure, pytrace=False)  # outside the except block: the rank's traceback is shown once

    return run


# --- what every process, rank or oracle, computes alike ---------------------------------------------------


def small_model_and_batches(engine, world_size, batches=1):
    """A two-layer network and ``batches`` global batches (inputs, targets) of ``ROWS_PER_RANK`` rows per
    rank, drawn from the seeded generators in this order."""
    model = engine.nn.Sequential(engine.nn.Linear(6, 5), engine.nn.Linear(5, 3))
    rows = ROWS_PER_RANK * world_size
    drawn = [(np.random.standard_normal((rows, 6)), np.random.standard_normal((rows, 3))) for _ in range(batches)]
    return model, [(x.astype(np.float32), y.astype(np.float32)) for x, y in drawn]


def shard(batch, rank, world_size):
    """Rank ``rank``'s equal share of a global batch (inputs, targets)."""
    return tuple(np.split(array, world_size)[rank] for array in batch)


def mean_squared_error(engine, model, batch):
    inputs, targets = batch
    return ((model(engine.tensor(inputs)) - engine.tensor(targets)) ** 2).mean()


def gradients(engine, model):
    return {name: engine.to_numpy(param.grad) for name, param in model.named_parameters()}


def values(engine, named):
    return {name: engine.to_numpy(tensor) for name, tensor in named}


def assert_every_rank_equal(per_rank, expected, *, rtol=1e-5, atol=1e-6):
    """Every rank holds the same values (bit for bit), and they are ``expected`` (to float32 rounding)."""
    for rank, result in enumerate(per_rank):
        assert result.keys() == expected.keys()
        for name, value in result.items():
            np.testing.assert_array_equal(value, per_rank[0][name], err_msg=f"rank {rank} differs from rank 0: {name}")
            np.testing.assert_allclose(value, expected[name], rtol=rtol, atol=atol, err_msg=f"rank {rank}: {name}")


# --- gradients are averaged -------------------------------------------------------------------------------


def averaged_gradients_on_rank(engine, rank, world_size):
    model, (batch,) = small_model_and_batches(engine, world_size)
    ddp = engine.parallel.DistributedDataParallel(model)
    mean_squared_error(engine, ddp, shard(batch, rank, world_size)).backward()
    return gradients(engine, model)


@spec(
    "ddp.gradients-averaged", sources=[DDP_DOCS, DDP_NOTES], needs=[cap.DISTRIBUTED, cap.NN, cap.AUTOGRAD], kind=VALUE
)
def test_gradients_are_averaged_over_ranks(engine, on_ranks, world_size):
    """During the backwards pass, gradients from each node are averaged: after backward() every rank holds
    the same gradients, those of the global batch computed in one process.

    Each rank's loss is the mean over its shard, so the average over ranks is the global batch's mean loss."""
    per_rank = on_ranks(averaged_gradients_on_rank)
    model, (batch,) = small_model_and_batches(engine, world_size)
    mean_squared_error(engine, model, batch).backward()
    assert_every_rank_equal(per_rank, gradients(engine, model))


# --- parameters and buffers are broadcast from rank 0 -----------------------------------------------------


def states(engine, model):
    return values(engine, model.named_parameters()) | values(engine, model.named_buffers())


def broadcast_on_rank(engine, rank, world_size):
    model = engine.models.resnet18()
    model(engine.rand(2, 3, 32, 32))  # a training-mode forward pass moves each rank's batch-norm buffers its own way
    before = states(engine, model)
    engine.parallel.DistributedDataParallel(model)
    return before, states(engine, model)


@spec("ddp.broadcast-at-construction", sources=[DDP_DOCS, DDP_NOTES], needs=[cap.DISTRIBUTED, cap.RESNET18], kind=VALUE)
def test_parameters_and_buffers_broadcast_from_rank_0(engine, on_ranks, world_size):
    """The DDP constructor broadcasts state_dict() from rank 0 to all other processes in the group, to make
    sure that all model replicas start from the exact same state: every rank's parameters and buffers are
    rank 0's.

    Each rank builds resnet18 from its own seed and runs a forward pass on its own images first, so its
    parameters and batch-norm buffers differ from rank 0's before the wrap."""
    per_rank = on_ranks(broadcast_on_rank, distinct_seeds=True)
    rank_0_before = per_rank[0][0]
    for rank, (before, after) in enumerate(per_rank):
        if rank > 0:
            assert not np.array_equal(before["conv1.weight"], rank_0_before["conv1.weight"])
            assert not np.array_equal(before["bn1.running_mean"], rank_0_before["bn1.running_mean"])
        assert after.keys() == rank_0_before.keys()
        for name, value in after.items():
            np.testing.assert_array_equal(value, rank_0_before[name], err_msg=f"rank {rank}: {name}")


# --- no_sync() accumulates locally ------------------------------------------------------------------------


def no_sync_on_rank(engine, rank, world_size):
    model, batches = small_model_and_batches(engine, world_size, batches=2)
    ddp = engine.parallel.DistributedDataParallel(model)
    with ddp.no_sync():
        mean_squared_error(engine, ddp, shard(batches[0], rank, world_size)).backward()
    inside = gradients(engine, model)
    mean_squared_error(engine, ddp, shard(batches[1], rank, world_size)).backward()
    return inside, gradients(engine, model)


def accumulated_gradients(engine, model, batches):
    """The gradients of the sum of the losses of ``batches``, from cleared gradients."""
    for param in model.parameters():
        param.grad = None
    for batch in batches:
        mean_squared_error(engine, model, batch).backward()
    return gradients(engine, model)


@spec("ddp.no-sync-accumulates", sources=[DDP_DOCS], needs=[cap.DISTRIBUTED, cap.NN, cap.AUTOGRAD], kind=VALUE)
def test_no_sync_accumulates_then_synchronises(engine, on_ranks, world_size):
    """no_sync() is a context manager to disable gradient synchronizations across DDP processes. Within this
    context, gradients will be accumulated on module variables, which will later be synchronized in the first
    forward-backward pass exiting the context: inside, each rank holds its own shard's gradient; after the
    next backward, every rank holds the average of the accumulated sums."""
    per_rank = on_ranks(no_sync_on_rank)
    model, batches = small_model_and_batches(engine, world_size, batches=2)
    for rank, (inside, _) in enumerate(per_rank):
        local = accumulated_gradients(engine, model, [shard(batches[0], rank, world_size)])
        for name, value in inside.items():
            np.testing.assert_allclose(value, local[name], rtol=1e-5, atol=1e-6, err_msg=f"rank {rank}: {name}")
    assert_every_rank_equal([after for _, after in per_rank], accumulated_gradients(engine, model, batches))


# --- freeze-then-replace-fc under DDP ---------------------------------------------------------------------


def finetuned_resnet18(engine):
    """The seeds' fine-tuning: every parameter frozen, model.fc replaced by a new nn.Linear(512, 10)."""
    model = engine.models.resnet18()
    for param in model.parameters():
        param.requires_grad = False
    model.fc = engine.nn.Linear(512, 10)
    return model


def finetune_batch(engine, world_size):
    """Images of 3×64×64 and labels of 10 classes, ``ROWS_PER_RANK`` per rank, as the seeds draw them."""
    rows = ROWS_PER_RANK * world_size
    return np.random.random_sample((rows, 3, 64, 64)).astype(np.float32), np.random.random_sample((rows, 10))


def seeds_loss(engine, model, batch):
    """The seeds' loss: (prediction - labels).sum()."""
    images, labels = batch
    return (model(engine.tensor(images)) - engine.tensor(labels.astype(np.float32))).sum()


def finetune_on_rank(engine, rank, world_size):
    model = finetuned_resnet18(engine)
    batch = finetune_batch(engine, world_size)
    ddp = engine.parallel.DistributedDataParallel(model)
    communicated = []
    names = {param: name for name, param in model.named_parameters()}

    def recording_hook(state, bucket):
        communicated.extend(names[param] for param in bucket.parameters())
        return engine.parallel.allreduce_hook(state, bucket)

    ddp.register_comm_hook(None, recording_hook)
    frozen_before = values(engine, ((n, p) for n, p in model.named_parameters() if not n.startswith("fc.")))
    optimizer = engine.optim.SGD(model.fc.parameters(), lr=LR, momentum=MOMENTUM)
    seeds_loss(engine, ddp, shard(batch, rank, world_size)).backward()
    with_grad = [name for name, param in model.named_parameters() if param.grad is not None]
    fc_grads = {name: engine.to_numpy(param.grad) for name, param in model.fc.named_parameters()}
    optimizer.step()
    frozen_changed = [
        n
        for n, p in model.named_parameters()
        if n in frozen_before and not np.array_equal(engine.to_numpy(p), frozen_before[n])
    ]
    fc_after = values(engine, model.fc.named_parameters())
    return sorted(with_grad), sorted(communicated), frozen_changed, fc_grads, fc_after


@spec(
    "ddp.freeze-then-replace-fc",
    sources=["000", "001", "003", DDP_DOCS, DDP_NOTES],
    needs=[cap.DISTRIBUTED, cap.RESNET18, cap.NN, cap.AUTOGRAD, cap.SGD],
    kind=VALUE,
)
def test_finetuning_under_ddp_trains_only_fc(engine, on_ranks, world_size):
    """Freeze all the parameters of resnet18, replace model.fc, wrap it in DistributedDataParallel and
    optimize only the classifier: frozen parameters get no gradient and are not communicated (DDP only
    reduces the parameters that require grad); fc's gradient is the average over ranks and only fc trains,
    identically on every rank.

    Batch normalisation normalises each rank's shard with the shard's own statistics, so the oracle runs the
    shards one after another in this process and averages their gradients."""
    per_rank = on_ranks(finetune_on_rank)
    model = finetuned_resnet18(engine)
    batch = finetune_batch(engine, world_size)
    fc_before = values(engine, model.fc.named_parameters())
    for rank in range(world_size):
        seeds_loss(engine, model, shard(batch, rank, world_size)).backward()
    fc_grads = {name: engine.to_numpy(param.grad) / world_size for name, param in model.fc.named_parameters()}
    fc_after = {name: fc_before[name] - LR * grad for name, grad in fc_grads.items()}  # momentum's first step
    for with_grad, communicated, frozen_changed, _, _ in per_rank:
        assert with_grad == ["fc.bias", "fc.weight"]
        assert communicated == ["fc.bias", "fc.weight"]
        assert frozen_changed == []
    assert_every_rank_equal([grads for *_, grads, _ in per_rank], fc_grads, rtol=1e-4, atol=1e-5)
    assert_every_rank_equal([after for *_, after in per_rank], fc_after, rtol=1e-4, atol=1e-5)


# --- SGD with momentum keeps the replicas identical -------------------------------------------------------


def momentum_steps(engine, model, batches, loss_model=None):
    """Two steps of SGD with momentum, one per batch; the parameters after them."""
    optimizer = engine.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    for batch in batches:
        optimizer.zero_grad()
        mean_squared_error(engine, loss_model or model, batch).backward()
        optimizer.step()
    return values(engine, model.named_parameters())


def momentum_on_rank(engine, rank, world_size):
    model, batches = small_model_and_batches(engine, world_size, batches=2)
    ddp = engine.parallel.DistributedDataParallel(model)
    return momentum_steps(engine, model, [shard(batch, rank, world_size) for batch in batches], loss_model=ddp)


@spec(
    "ddp.sgd-momentum-identical",
    sources=[DDP_NOTES, "docs:generated/torch.optim.SGD"],
    needs=[cap.DISTRIBUTED, cap.NN, cap.AUTOGRAD, cap.SGD],
    kind=VALUE,
)
def test_sgd_with_momentum_keeps_replicas_identical(engine, on_ranks, world_size):
    """As all replicas start from the same state and receive the same averaged gradients, the optimizer
    steps of every rank leave their parameters identical: two steps of SGD with momentum under DDP give every
    rank the parameters of the same two steps on the global batches in one process."""
    per_rank = on_ranks(momentum_on_rank)
    model, batches = small_model_and_batches(engine, world_size, batches=2)
    assert_every_rank_equal(per_rank, momentum_steps(engine, model, batches))
