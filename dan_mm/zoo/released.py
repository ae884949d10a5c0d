"""The files the DAN authors publish (github.com/yaoing/DAN, "Models" and
"Preparation", MIT licence), and where else to get them by hand."""
import re
from typing import NamedTuple, Optional

BAIDU_MIRROR = 'https://pan.baidu.com/s/1NL-Yhuw5hF19uDWu-cF2-A'
BAIDU_KEY = '0000'


class ReleasedFile(NamedTuple):
    """One file of the authors' release.

    Attributes:
        file (str): Its name in the release (and in the cache).
        drive_id (str): Its Google Drive file id.
    """
    file: str
    drive_id: str

    @property
    def url(self) -> str:
        """The Google Drive download URL (what ``Weights:`` names)."""
        return drive_url(self.drive_id)


def drive_url(drive_id: str) -> str:
    """``https://drive.google.com/uc?id=<drive_id>``."""
    return f'https://drive.google.com/uc?id={drive_id}'


RELEASED_FILES = (
    ReleasedFile('affecnet8_epoch5_acc0.6209.pth',
                 '1uHNADViICyJEjJljv747nfvrGu12kjtu'),
    ReleasedFile('affecnet7_epoch6_acc0.6569.pth',
                 '1_Z-U7rT5NJ3Vc73aN2ZBmuvCkzUQG4jT'),
    ReleasedFile('rafdb_epoch21_acc0.897_bacc0.8275.pth',
                 '1ASabP5wkLUIh4VQc8CEuZbZyLJEFaTMF'),
    # The FCN's start for training (configs/_base_/models/dan_r18.py).
    ReleasedFile('resnet18_msceleb.pth', '1u2NtY-5DVlTunfN4yxfxys5n8uh7sc3n'),
)


def _drive_id(url: str) -> Optional[str]:
    found = re.search(r'drive\.google\.com/.*?(?:[?&]id=|/d/)([\w-]+)', url)
    return found.group(1) if found else None


def released_file(url_or_file: str) -> Optional[ReleasedFile]:
    """The released file a Drive URL (or a file name) points to.

    Args:
        url_or_file (str): A Google Drive URL or a released file's name.

    Returns:
        ReleasedFile | None: The file, or None for anything else.
    """
    drive_id = _drive_id(url_or_file)
    for released in RELEASED_FILES:
        if drive_id == released.drive_id or url_or_file == released.file:
            return released
    return None
