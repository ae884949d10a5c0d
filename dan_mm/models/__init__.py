"""DAN as MMPretrain components, laid out as in the paper.

- FCN (feature clustering network): the backbone, any registered one
  (mmpretrain ``ResNet`` depth 18 by default, or ``TIMMBackbone``), trained
  with :class:`~dan_mm.models.losses.AffinityLoss`
  (``losses/affinity_loss.py``).
- MAN (multi-head attention network):
  :class:`~dan_mm.models.necks.MultiHeadCrossAttentionNeck` (``necks/man.py``).
- AFN (attention fusion network): :class:`~dan_mm.models.heads.FusionClsHead`
  (``heads/afn.py``) with :class:`~dan_mm.models.losses.PartitionLoss`
  (``losses/partition_loss.py``).

The classifier that ties them together is
:class:`~dan_mm.models.classifiers.DAN`, mmpretrain's ``ImageClassifier``
plus ``switch_to_deploy()`` (fused MAN, ``necks/fused_man.py``) and the
public methods tools use instead of reaching into its parts: ``logits()``,
``attention_maps()``, ``backbone_features()``, ``logits_from_features()``
and ``attention_maps_from_features()``.
"""
from .classifiers import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
