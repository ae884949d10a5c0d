# The DAN authors' RAF-DB model (rafdb_epoch21_acc0.897_bacc0.8275.pth, MIT
# licence, github.com/yaoing/DAN), converted to dan_mm on loading. By name:
#   python tools/infer.py dan_r18_3rdparty_rafdb photo.jpg
# downloads it once into the cache (docs/checkpoints.md).
# Its faces: RAF-DB's aligned images, warped by five landmarks onto a
# template (face_crop of _base_/datasets/rafdb_bs256.py), resized to 224.
_base_ = ['dan_r18_rafdb.py']

# The authors' label order (rafdb.py: labels 1..7 of list_patition_label.txt
# minus one), which their classifier's rows follow.
classes = ('Surprise', 'Fear', 'Disgust', 'Happiness', 'Sadness', 'Anger',
           'Neutral')
val_dataloader = dict(dataset=dict(metainfo=dict(classes=classes)))
test_dataloader = val_dataloader

training_data = dict(name='RAF-DB', real_faces=True)
