"""Class names and orders of the FER data sets, as their label files use."""

# RAF-DB basic: file labels 1..7, stored 0-based here.
RAFDB_CATEGORIES = ('Surprise', 'Fear', 'Disgust', 'Happiness', 'Sadness',
                    'Anger', 'Neutral')

# AffectNet: file labels 0..7 as stored (8 None, 9 Uncertain, 10 No-face are
# never used). AffectNet-7 drops Contempt (7).
AFFECTNET_CATEGORIES = ('Neutral', 'Happy', 'Sad', 'Surprise', 'Fear',
                        'Disgust', 'Anger', 'Contempt')

# FER2013 (`emotion` column of fer2013.csv).
FER2013_CATEGORIES = ('Angry', 'Disgust', 'Fear', 'Happy', 'Sad', 'Surprise',
                      'Neutral')

# FERPlus: FER2013's order plus Contempt. fer2013new.csv lists its vote
# columns in another order (neutral, happiness, surprise, sadness, anger,
# disgust, fear, contempt); FERPLUS_VOTE_COLUMNS maps them onto this one.
FERPLUS_CATEGORIES = FER2013_CATEGORIES + ('Contempt', )
FERPLUS_VOTE_COLUMNS = ('anger', 'disgust', 'fear', 'happiness', 'sadness',
                        'surprise', 'neutral', 'contempt')

# Folder-per-class sets read by mmpretrain's CustomDataset: labels follow the
# *sorted* folder names (CustomDataset only checks that `classes` has as many
# names), so these tuples are the sorted folder names of the usual copies.
SFEW_CATEGORIES = ('Angry', 'Disgust', 'Fear', 'Happy', 'Neutral', 'Sad',
                   'Surprise')
CKPLUS_CATEGORIES = ('anger', 'contempt', 'disgust', 'fear', 'happy',
                     'sadness', 'surprise')
