# The DAN authors' AffectNet-7 model (affecnet7_epoch6_acc0.6569.pth, MIT
# licence, github.com/yaoing/DAN), converted to dan_mm on loading. By name:
#   python tools/infer.py dan_r18_3rdparty_affectnet7 photo.jpg
# downloads it once into the cache (docs/checkpoints.md).
# Its faces: AffectNet's face-box crops, no margin (face_crop of
# _base_/datasets/affectnet8_bs256.py), resized to 224.
_base_ = ['dan_r18_affectnet7.py']

# The authors' label order: AffectNet-8's (demo.py) without Contempt.
classes = ('Neutral', 'Happy', 'Sad', 'Surprise', 'Fear', 'Disgust', 'Anger')
val_dataloader = dict(dataset=dict(metainfo=dict(classes=classes)))
test_dataloader = val_dataloader

training_data = dict(name='AffectNet', real_faces=True)
