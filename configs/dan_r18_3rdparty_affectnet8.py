# The DAN authors' AffectNet-8 model (affecnet8_epoch5_acc0.6209.pth, MIT
# licence, github.com/yaoing/DAN), converted to dan_mm on loading. By name:
#   python tools/infer.py dan_r18_3rdparty_affectnet8 photo.jpg
# downloads it once into the cache (docs/checkpoints.md).
# Its faces: AffectNet's face-box crops, no margin (face_crop of
# _base_/datasets/affectnet8_bs256.py), resized to 224.
_base_ = ['dan_r18_affectnet8.py']

# The authors' label order (demo.py; AffectNet's own labels 0..7).
classes = ('Neutral', 'Happy', 'Sad', 'Surprise', 'Fear', 'Disgust', 'Anger',
           'Contempt')
val_dataloader = dict(dataset=dict(metainfo=dict(classes=classes)))
test_dataloader = val_dataloader

training_data = dict(name='AffectNet', real_faces=True)
