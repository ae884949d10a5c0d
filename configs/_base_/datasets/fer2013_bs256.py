# FER2013 (7 classes) from fer2013.csv alone, with FERPlus's pipelines.
_base_ = ['ferplus_bs256.py']

data_root = 'data/fer2013'
data_preprocessor = dict(num_classes=7)
train_dataloader = dict(dataset=dict(type='FER2013', data_root=data_root))
val_dataloader = dict(dataset=dict(type='FER2013', data_root=data_root))
test_dataloader = dict(dataset=dict(type='FER2013', data_root=data_root))
