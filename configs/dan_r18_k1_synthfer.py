# Ablation on SynthFER: DAN with a single cross-attention head (K=1).
# With one head there is no log-softmax across heads and the partition loss
# is 0; everything else (FCN, affinity loss, schedule) is dan_r18_synthfer.py.
_base_ = ['dan_r18_synthfer.py']

model = dict(neck=dict(num_heads=1))
