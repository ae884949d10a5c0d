"""Class names and orders of the FER data sets, as their label files use them."""

# RAF-DB basic: file labels 1..7, stored 0-based here.
RAFDB_CATEGORIES = ('Surprise', 'Fear', 'Disgust', 'Happiness', 'Sadness',
                    'Anger', 'Neutral')
