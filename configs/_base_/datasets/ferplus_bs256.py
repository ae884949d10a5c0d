# FERPlus (majority vote, 8 classes) decoded in memory from fer2013.csv +
# fer2013new.csv. The reference has no FERPlus recipe: use RAF-DB's
# pipelines as they are (LoadFaceImage passes in-memory 48x48 images through;
# the data set repeats the gray channel).
_base_ = ['rafdb_bs256.py']

dataset_type = 'FERPlus'
data_root = 'data/ferplus'

data_preprocessor = dict(num_classes=8)

train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split='train'))
# PublicTest for validation, PrivateTest for the test.
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split='val'))
test_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split='test'))
