"""Each tracked face's expression over a video: ``timeline.csv`` and
``timeline.png``.

A :class:`Timeline` collects the faces of every frame, as
:class:`~dan_mm.video.VideoInferencer` yields them or as
``predictions.jsonl`` records them (:mod:`dan_mm.inference.predictions`),
and writes:

- ``timeline.csv``: one row per face per frame, columns ``frame, time_s,
  track_id, x1, y1, x2, y2, pred_class``, then ``<class>_smoothed`` and
  ``<class>_raw`` per class (``pandas.read_csv`` loads it as it is);
- ``timeline.png``: one panel per track lasting more than ``min_track_s``
  seconds: the smoothed probability of each class over time.
"""
import csv
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np

from ..visualization.palette import (class_colours, face_colour,
                                     face_colour_bgr, text_colour_bgr)

BOX_COLUMNS = ('x1', 'y1', 'x2', 'y2')


def _scores(scores, classes: Sequence[str]) -> np.ndarray:
    """Probabilities as a ``(C,)`` array, from a list or ``{name: p}``."""
    if isinstance(scores, dict):
        return np.array([scores[name] for name in classes], np.float64)
    return np.asarray(scores, np.float64).reshape(-1)


class Timeline:
    """Per-frame face results of one video, for a table and a plot.

    Args:
        classes (Sequence[str], optional): Class names (CSV columns, legend).
            Defaults to those of the first record with ``{name: p}``
            scores, else ``class_0`` ...
        fps (float, optional): Frame rate, for frames without ``time_s``
            (``time_s = frame / fps``).

    Example:
        >>> timeline = Timeline(inferencer.classes, fps=25)
        >>> for result in VideoInferencer(inferencer)('clip.mp4'):
        ...     timeline.add(result)
        >>> timeline.write('work_dirs/infer')  # timeline.csv, timeline.png
    """

    def __init__(self,
                 classes: Optional[Sequence[str]] = None,
                 fps: Optional[float] = None) -> None:
        self.classes = list(classes) if classes is not None else None
        self.fps = fps
        # per face: frame, time_s, track_id (nan: none), box, smoothed, raw
        self._rows: List[np.ndarray] = []
        self._num_frames = 0

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, result: dict) -> None:
        """Add one frame's faces.

        Args:
            result (dict): A frame's result of
                :class:`~dan_mm.video.VideoInferencer` or its
                ``predictions.jsonl`` record: ``frame``, ``time_s`` and
                ``faces``, each with ``box``, ``pred_scores`` (smoothed in
                a smoothed run), ``track_id`` and, when smoothed,
                ``raw_scores`` (else the raw ones are ``pred_scores``).
        """
        frame = result.get('frame')
        frame = self._num_frames if frame is None else int(frame)
        self._num_frames += 1
        time_s = result.get('time_s')
        if time_s is None:
            time_s = frame / self.fps if self.fps else np.nan
        for face in result['faces']:
            scores = face['pred_scores']
            if self.classes is None:
                self.classes = list(scores) if isinstance(scores, dict) \
                    else [f'class_{i}' for i in range(len(scores))]
            smoothed = _scores(scores, self.classes)
            raw = _scores(face.get('raw_scores', scores), self.classes)
            track_id = face.get('track_id')
            self._rows.append(
                np.concatenate(
                    [[frame, time_s, np.nan if track_id is None else track_id],
                     np.asarray(face['box'][:4], np.float64), smoothed, raw]))

    def table(self) -> np.ndarray:
        """All rows as one ``(N, 7 + 2C)`` float array (see the module)."""
        width = 7 + 2 * len(self.classes or [])
        return np.stack(self._rows) if self._rows else np.zeros((0, width))

    def columns(self) -> List[str]:
        """The CSV's header."""
        classes = self.classes or []
        return [
            'frame', 'time_s', 'track_id', *BOX_COLUMNS, 'pred_class',
            *(f'{name}_smoothed' for name in classes),
            *(f'{name}_raw' for name in classes)
        ]

    def tracks(self) -> Dict[int, np.ndarray]:
        """Rows per track id (faces without one left out), in time order."""
        table = self.table()
        ids = table[:, 2]
        return {
            int(track): table[ids == track]
            for track in np.unique(ids[~np.isnan(ids)])
        }

    def write_csv(self, path: str) -> str:
        """Write ``timeline.csv`` (one row per face per frame).

        Args:
            path (str): The output file.

        Returns:
            str: ``path``.
        """
        num_classes = len(self.classes or [])
        with open(path, 'w', newline='') as f:
            writer = csv.writer(f)
            writer.writerow(self.columns())
            for row in self.table():
                smoothed = row[7:7 + num_classes]
                track = '' if np.isnan(row[2]) else int(row[2])
                time_s = '' if np.isnan(row[1]) else round(float(row[1]), 3)
                writer.writerow([
                    int(row[0]), time_s, track,
                    *(round(float(v), 1) for v in row[3:7]),
                    self.classes[int(smoothed.argmax())], *(round(float(v), 6)
                                                            for v in row[7:])
                ])
        return path

    def figure(self,
               min_track_s: float = 1.0,
               max_panels: int = 12,
               title: Optional[str] = None):
        """The plot of ``timeline.png``, not yet saved.

        One panel per track lasting more than ``min_track_s`` (from its
        first to its last frame), the longest first and at most
        ``max_panels``, in frame order of their start; each shows the
        smoothed probability of every class over time, titled with the
        track's number in its colour on the annotated video.

        Args:
            min_track_s (float): Shorter tracks get no panel. Defaults to 1.
            max_panels (int): At most this many panels. Defaults to 12.
            title (str, optional): The figure's title.

        Returns:
            matplotlib.figure.Figure: One axes per panel (none when no
            track lasts long enough: a line of text says so).
        """
        from matplotlib.figure import Figure
        tracks = {
            track: rows
            for track, rows in self.tracks().items()
            if rows[-1, 1] - rows[0, 1] > min_track_s
        }
        longest = sorted(
            tracks,
            key=lambda t: tracks[t][-1, 1] - tracks[t][0, 1],
            reverse=True)[:max_panels]
        shown = sorted(longest, key=lambda t: tracks[t][0, 0])
        fig = Figure(figsize=(9, 0.6 + 1.9 * max(1, len(shown))))
        if title or len(shown) < len(tracks):
            more = f' (the {len(shown)} longest of {len(tracks)} tracks)' \
                if len(shown) < len(tracks) else ''
            fig.suptitle(f'{title or ""}{more}', fontsize=10)
        if not shown:
            fig.text(
                0.5,
                0.5,
                f'no face was tracked for more than {min_track_s:g} s',
                ha='center',
                va='center')
            return fig
        axes = fig.subplots(len(shown), 1, sharex=True, squeeze=False)[:, 0]
        colours = class_colours(len(self.classes))
        for ax, track in zip(axes, shown):
            rows = tracks[track]
            for c, name in enumerate(self.classes):
                ax.plot(
                    rows[:, 1],
                    rows[:, 7 + c],
                    color=colours[c],
                    lw=1.4,
                    label=name)
            ax.set_ylim(-0.02, 1.02)
            ax.set_ylabel('probability', fontsize=8)
            ax.grid(alpha=0.3)
            text = 'black' if text_colour_bgr(
                face_colour_bgr(track)) == (0, 0, 0) else 'white'
            ax.set_title(
                f' #{track} ',
                loc='left',
                fontsize=9,
                color=text,
                fontweight='bold',
                backgroundcolor=face_colour(track))
        axes[-1].set_xlabel('time (s)')
        axes[0].legend(
            loc='upper left',
            bbox_to_anchor=(1.01, 1.0),
            fontsize=8,
            frameon=False)
        fig.tight_layout()
        return fig

    def write(self,
              out_dir: str,
              min_track_s: float = 1.0,
              title: Optional[str] = None) -> List[str]:
        """Write ``timeline.csv`` and ``timeline.png`` into ``out_dir``.

        Args:
            out_dir (str): The folder (made if missing).
            min_track_s (float): Tracks this short get no panel. Defaults
                to 1.
            title (str, optional): The plot's title.

        Returns:
            list[str]: The two paths.
        """
        os.makedirs(out_dir, exist_ok=True)
        csv_path = self.write_csv(osp.join(out_dir, 'timeline.csv'))
        png_path = osp.join(out_dir, 'timeline.png')
        # 'tight': the legend stands right of the panels
        self.figure(
            min_track_s, title=title).savefig(
                png_path, dpi=110, bbox_inches='tight')
        return [csv_path, png_path]
