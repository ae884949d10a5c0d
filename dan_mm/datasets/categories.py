"""Class names and orders of the FER data sets, as their label files use,
and how the names of one data set match another's."""
from typing import List, NamedTuple, Sequence, Tuple

from dan_mm.utils.errors import ConfigError

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


class ClassMatch(NamedTuple):
    """Classes of a model and of a data set, paired by name."""
    pairs: List[Tuple[int, int]]  # (data set index, model index)
    data_left_out: List[str]  # data set classes the model does not know
    model_left_out: List[str]  # model classes the data set does not have


# The same expression under the names the data sets above use; names not
# listed here match only themselves (case-insensitively).
EXPRESSION_SYNONYMS = {
    'anger': ('anger', 'angry'),
    'contempt': ('contempt', ),
    'disgust': ('disgust', 'disgusted'),
    'fear': ('fear', 'fearful', 'afraid'),
    'happiness': ('happiness', 'happy'),
    'neutral': ('neutral', ),
    'sadness': ('sadness', 'sad'),
    'surprise': ('surprise', 'surprised'),
}
_CANONICAL = {
    name: canonical
    for canonical, names in EXPRESSION_SYNONYMS.items()
    for name in names
}


def canonical_expression(name: str) -> str:
    """One spelling per expression: ``'Happy'`` and ``'Happiness'`` both
    give ``'happiness'``; unknown names give themselves in lower case."""
    key = name.strip().lower()
    return _CANONICAL.get(key, key)


def match_classes_by_name(model_classes: Sequence[str],
                          data_classes: Sequence[str]) -> ClassMatch:
    """Pair a model's classes with a data set's by expression name.

    Args:
        model_classes (Sequence[str]): The classes the model predicts, in
            its output order (e.g. RAF-DB's).
        data_classes (Sequence[str]): The data set's classes, in its label
            order (e.g. FERPlus's).

    Returns:
        ClassMatch: ``pairs`` ``[(data index, model index)]`` in data order,
        and the names left out on either side.

    Raises:
        ConfigError: Two classes of one side name the same expression.
    """
    index = {}
    for side, classes in (('model', model_classes), ('data set',
                                                     data_classes)):
        seen = {}
        for i, name in enumerate(classes):
            key = canonical_expression(name)
            if key in seen:
                raise ConfigError(
                    f'the {side} classes {list(classes)} name one expression '
                    f'twice ("{classes[seen[key]]}" and "{name}"); classes '
                    'can only be matched by name when each is named once')
            seen[key] = i
        index[side] = seen
    pairs = [(i, index['model'][canonical_expression(name)])
             for i, name in enumerate(data_classes)
             if canonical_expression(name) in index['model']]
    matched_model = {m for _, m in pairs}
    return ClassMatch(
        pairs=pairs,
        data_left_out=[
            n for n in data_classes
            if canonical_expression(n) not in index['model']
        ],
        model_left_out=[
            n for i, n in enumerate(model_classes) if i not in matched_model
        ])
