"""Machine learning on slopes: activations, losses, initializers, models, training, data.

Every derivative here comes from the engine: a model is a plain function of a params
pytree, so ``sl.grad``, ``sl.hessian``, ``sl.jit`` and ``sl.vmap`` apply to it unchanged.
"""

# Each block below is owned by one module family; keep additions inside its block.

# --- building blocks: activations, losses, penalties, initializers ---
from . import activations as activations
from . import initializers as initializers
from . import losses as losses
from .activations import elu as elu
from .activations import gelu as gelu
from .activations import leaky_relu as leaky_relu
from .activations import log_sigmoid as log_sigmoid
from .activations import log_softmax as log_softmax
from .activations import logsumexp as logsumexp
from .activations import relu as relu
from .activations import sigmoid as sigmoid
from .activations import softmax as softmax
from .activations import softplus as softplus
from .activations import tanh as tanh
from .losses import binary_cross_entropy as binary_cross_entropy
from .losses import binary_cross_entropy_with_logits as binary_cross_entropy_with_logits
from .losses import cross_entropy as cross_entropy
from .losses import elastic_net_penalty as elastic_net_penalty
from .losses import hinge as hinge
from .losses import huber as huber
from .losses import l1_penalty as l1_penalty
from .losses import l2_penalty as l2_penalty
from .losses import mae as mae
from .losses import mse as mse
from .losses import nll as nll

# isort: split

# --- datasets, splitting, standardization ---
from . import datasets as datasets
from .datasets import Dataset as Dataset
from .datasets import Standardizer as Standardizer
from .datasets import train_test_split as train_test_split

# isort: split

# --- training: fit, History, callbacks, checkpoints, LR range test, mixed precision, sweeps ---
from .callbacks import EarlyStopping as EarlyStopping
from .callbacks import TrainHistory as TrainHistory
from .callbacks import TrainInfo as TrainInfo
from .lr_finder import LRFindResult as LRFindResult
from .lr_finder import lr_find as lr_find
from .mixed_precision import DynamicLossScale as DynamicLossScale
from .mixed_precision import Underflow as Underflow
from .mixed_precision import underflow_fraction as underflow_fraction
from .training import TrainResult as TrainResult
from .sweep import Sweep as Sweep
from .sweep import sweep as sweep
from .training import fit as fit

# isort: split

# --- models: layers, MLP, estimators, gradient health ---
from . import estimator as estimator
from .estimator import BaseEstimator as BaseEstimator
from .estimator import ClassifierMixin as ClassifierMixin
from .estimator import ConvergenceWarning as ConvergenceWarning
from .estimator import DataConversionWarning as DataConversionWarning
from .estimator import NotFittedError as NotFittedError
from .estimator import RegressorMixin as RegressorMixin
from .estimator import TransformerMixin as TransformerMixin
from .linear import LinearRegression as LinearRegression
from .logistic import LogisticRegression as LogisticRegression
from .logistic import SoftmaxRegression as SoftmaxRegression

# isort: split

from . import layers as layers
from .health import DepthStudy as DepthStudy
from .health import activation_variances as activation_variances
from .health import dead_relu_fraction as dead_relu_fraction
from .health import depth_study as depth_study
from .health import layer_grad_norms as layer_grad_norms
from .layers import MLP as MLP
from .layers import batch_norm as batch_norm
from .layers import batch_norm_init as batch_norm_init
from .layers import batch_norm_state as batch_norm_state
from .layers import dense as dense
from .layers import dense_init as dense_init
from .layers import layer_norm as layer_norm
from .layers import layer_norm_init as layer_norm_init
from .layers import residual_block as residual_block
from .layers import residual_block_init as residual_block_init
from .mlp import MLPClassifier as MLPClassifier
from .mlp import MLPRegressor as MLPRegressor
