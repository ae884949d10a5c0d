# FER2013 (7 classes) decoded in memory from fer2013.csv. The reference has
# no FER2013 recipe: use RAF-DB's pipelines as they are (LoadFaceImage passes
# in-memory 48x48 images through; the data set repeats the gray channel).
_base_ = ['rafdb_bs256.py']

dataset_type = 'FER2013'
data_root = 'data/fer2013'
num_classes = 7
# FER2013's 48x48 faces were registered to fill the image (forehead to chin):
# about a detected box with a small margin (not RAF-DB's alignment).
face_crop = dict(_delete_=True, mode='box', margin=0.05)

data_preprocessor = dict(num_classes=num_classes)

train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split='train'))
# PublicTest for validation, PrivateTest for the test.
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split='val'))
test_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split='test'))
