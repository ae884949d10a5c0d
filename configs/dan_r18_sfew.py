# DAN (ResNet-18, K=4) on a folder-per-class data set through mmpretrain's
# CustomDataset, here SFEW 2.0 (RAF-DB's recipe and pipelines):
#   data/sfew/Train/Angry/*.png ... data/sfew/Val/Surprise/*.png
# CustomDataset numbers the classes by the *sorted* folder names; `classes`
# only names them (it must list them in that order). For CK+ or your own set
# change data_root, the folder names and `classes` (dan_mm.datasets.
# categories.CKPLUS_CATEGORIES for the usual CK+ copy), and num_classes.
_base_ = ['dan_r18_rafdb.py']

dataset_type = 'CustomDataset'
data_root = 'data/sfew'
classes = ('Angry', 'Disgust', 'Fear', 'Happy', 'Neutral', 'Sad', 'Surprise')

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        data_root=data_root,
        data_prefix='Train',
        classes=classes,
        pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type=dataset_type,
        data_root=data_root,
        data_prefix='Val',
        classes=classes,
        pipeline={{_base_.test_pipeline}}))
test_dataloader = val_dataloader
