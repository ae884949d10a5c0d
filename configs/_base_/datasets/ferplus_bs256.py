# FERPlus (8 classes) decoded in memory from fer2013.csv + fer2013new.csv:
# FER2013's images and splits (the FERPlus class derives from FER2013), new
# labels from ten votes. Microsoft's majority rule everywhere by default;
# other training targets: train_dataloader.dataset.label_mode (see
# docs/datasets.md), keeping val/test on majority as papers do.
_base_ = ['fer2013_bs256.py']

dataset_type = 'FERPlus'
data_root = 'data/ferplus'
num_classes = 8

data_preprocessor = dict(num_classes=num_classes)

train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split='train'))
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split='val'))
test_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split='test'))
