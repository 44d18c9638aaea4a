"""Many small models trained at once: the memorization estimator's (and LiRA's shadow) models.

An *ensemble* here is K models of one architecture, model k trained with the usual recipe
(:func:`rum_core.training.fit`) on its own subset ``subsets[k]`` of the training set, with its own seed
(initialization as :func:`rum_core.models.build` draws it, shuffling as ``fit`` draws it). Each model is
then evaluated on the whole training set and test set.

Three ways to train them, with the same result:

* **Stacked MLPs** (``mlp``, no augmentation): the K models' parameters are stacked into tensors with a
  leading model axis (``nn.Linear``'s layout, (K, out, in)), and one training step of all K models is a
  handful of batched matrix products (``torch.baddbmm`` / ``torch.bmm``), a hand-written backward pass for
  the Linear/ReLU stack and one ``torch.optim.SGD`` step over the stacked parameters (fused: momentum and
  weight decay in one pass over all of them). Each model processes exactly
  the batches ``fit`` would give it (its own ``torch.Generator`` seeded with its seed, one ``randperm`` per
  epoch as in ``minibatches``; the cosine schedule over its own number of steps), so examples left out of
  a model cost nothing. Models are grouped by subset size (a group shares its number of steps and its
  ragged last batch) and cut into chunks; on a CPU, chunks run in parallel threads with one BLAS thread
  each (PyTorch releases the GIL inside its kernels, and matrices this small gain nothing from intra-op
  threads). The result equals a loop of ``fit`` calls up to float rounding (different summation order in
  the matrix products; the tests check 1e-5).
* **Stacked CNNs** (``cnn1d``, MNIST-1D's small CNN; no augmentation): the same idea for convolutions, kept
  channels-last so that each convolution of all K models is one strided im2col copy and one batched matrix
  product, with the backward pass written out (:mod:`rum_core.ensembles.cnn1d`).
* **Loop** (any other model, or augmentation): ``models.build`` + ``training.fit`` per model, spread over
  processes with joblib.

:func:`inclusion_design` draws the (K, N) in/out mask: ``"balanced"`` (every example in exactly the same
number of models, complementary folds) or ``"random"`` (each model an independent random subset).

Modules: :mod:`~rum_core.ensembles.design` (who trains on what), :mod:`~rum_core.ensembles.mlp` and
:mod:`~rum_core.ensembles.cnn1d` (the stacks), :mod:`~rum_core.ensembles.train` (:func:`train_stack`,
:func:`train_ensemble` and the predictions); ``_common`` holds what the two stacks share.
"""

from .cnn1d import CNN1dStack
from .design import DESIGNS, inclusion_design, model_seeds
from .mlp import MLPStack
from .train import STACKS, EnsembleResult, SplitOutputs, train_ensemble, train_flops, train_stack

__all__ = ["DESIGNS", "STACKS", "inclusion_design", "model_seeds", "MLPStack", "CNN1dStack", "SplitOutputs",
           "EnsembleResult", "train_ensemble", "train_stack", "train_flops"]
