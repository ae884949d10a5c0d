"""Draw the README's video timeline: a generated clip of drawn SynthFER
faces changing expression, run through the video loop of tools/infer.py
(tracking, smoothing), plotted as tools/infer.py's timeline.png.

Without a checkpoint the model's weights are random (seeded): the picture
shows the format, its classes mean nothing.

Example (the picture in the README):
    python tools/analysis_tools/timeline_figure.py configs/dan_r18_synthfer.py
"""
import argparse
import os
import os.path as osp
import tempfile
import warnings
from typing import Optional, Sequence

import torch

from dan_mm.analysis.timeline_clip import (clip_timeline, mark_script,
                                           random_weights, write_timeline_clip)
from dan_mm.inference import FERInferencer, ModelDomainWarning
from dan_mm.utils.cli import (DefaultsHelpFormatter, add_debug_argument,
                              check_checkpoint_file, exit_on_user_error)
from dan_mm.utils.config import load_config

# A trained SynthFER model knows drawn faces, so its classes mean something
# on this clip (never on real photos); random weights' mean nothing.
TRAINED = ('a SynthFER model on a clip of drawn faces (its labels are not '
           'meaningful on real photos)')
RANDOM = ('classes not meaningful: a randomly initialised SynthFER model, '
          'drawn faces')


def parse_args(argv: Optional[Sequence[str]] = None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=DefaultsHelpFormatter)
    parser.add_argument('config', help='model config file')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        help='checkpoint file (default: random weights, seed --seed)')
    parser.add_argument('--out', default='docs/images/timeline_synthfer.png')
    parser.add_argument(
        '--csv', help='also write the timeline as this CSV file')
    # seed 4: random weights whose answers differ visibly between faces
    parser.add_argument('--seed', type=int, default=4)
    parser.add_argument('--device', default='cpu')
    add_debug_argument(parser)
    return parser.parse_args(argv)


@exit_on_user_error
def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    load_config(args.config)
    if args.checkpoint:
        check_checkpoint_file(args.checkpoint)
    warnings.simplefilter('ignore', ModelDomainWarning)  # in the title
    torch.manual_seed(args.seed)  # layers without an init_cfg: at build
    inferencer = FERInferencer(
        args.config, args.checkpoint, device=args.device)
    if not args.checkpoint:
        random_weights(inferencer.model, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        clip = osp.join(tmp, 'clip.mp4')
        timeline = clip_timeline(inferencer, clip, write_timeline_clip(clip))
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    figure = timeline.figure(title=TRAINED if args.checkpoint else RANDOM)
    mark_script(figure)  # what the clip shows, for comparison
    figure.savefig(args.out, dpi=90, bbox_inches='tight')
    if args.csv:
        timeline.write_csv(args.csv)
    print(f'{args.out}: {len(timeline)} faces, '
          f'{osp.getsize(args.out) / 1024:.0f} KB')


if __name__ == '__main__':
    main()
