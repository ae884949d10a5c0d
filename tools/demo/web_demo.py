"""A web page to try DAN on your own photos (or a camera snapshot).

Upload a photo and see every face boxed and labelled, per face the class
probabilities as bars and the attention of each head, the time it took and
which model on which device answered. FastAPI serves one plain HTML page
that loads nothing from elsewhere (it works offline).

Examples:
    # The SynthFER model trained by the README's command 1:
    python tools/demo/web_demo.py
    # The DAN authors' RAF-DB model (downloaded once):
    python tools/demo/web_demo.py dan_r18_3rdparty_rafdb
    python tools/demo/web_demo.py configs/dan_r18_rafdb.py dan.pth \\
        --device cuda:0 --host 0.0.0.0 --port 8080

Then open http://127.0.0.1:7860 in a browser (the tool prints the address;
with ``--port 0`` a free port is picked). Needs the demo extra:
``pip install -r requirements/demo.txt`` (or ``pip install ".[demo]"``).
"""
import argparse
import os
import os.path as osp
import socket
import warnings

# Arguments and files are checked before torch and MMPretrain load (~3 s):
# dan_mm defers them to the first import beyond dan_mm.utils.cli.
DAN_MM_DEFER_IMPORTS = True
from dan_mm.utils.cli import (PRECISION_NAMES, DefaultsHelpFormatter,
                              add_config_mismatch_argument, add_debug_argument,
                              check_files_exist, exit_on_user_error,
                              find_last_checkpoint, print_note)
from dan_mm.utils.errors import ListenError, MissingExtraError

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_CONFIG = osp.join(REPO, 'configs', 'dan_r18_synthfer.py')
if osp.realpath(os.getcwd()) == osp.realpath(REPO):
    DEFAULT_CONFIG = osp.relpath(DEFAULT_CONFIG)  # as in the README


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Web demo: DAN facial expression recognition on '
        'uploaded photos',
        formatter_class=DefaultsHelpFormatter)
    parser.add_argument(
        'config',
        nargs='?',
        default=DEFAULT_CONFIG,
        help='model name (e.g. dan_r18_3rdparty_rafdb: the DAN authors\' '
        'model, downloaded once) or model config (default: '
        'configs/dan_r18_synthfer.py)')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        default=None,
        help='checkpoint (default: the last one "python tools/train.py '
        'CONFIG" saved, named by work_dirs/<config name>/last_checkpoint)')
    parser.add_argument(
        '--host',
        default='127.0.0.1',
        help='address to listen on (0.0.0.0: every interface)')
    parser.add_argument(
        '--port', type=int, default=7860, help='0: any free port')
    parser.add_argument(
        '--device',
        default=None,
        help='e.g. cpu, cuda:0 (default: cuda if available); one that '
        'this machine lacks is one error line')
    parser.add_argument(
        '--precision',
        choices=list(PRECISION_NAMES),
        default='fp32',
        help='autocast precision')
    parser.add_argument(
        '--backend',
        choices=['pytorch', 'onnxruntime'],
        default=None,
        help='what classifies the faces (default: onnxruntime with --onnx, '
        'else pytorch, as tools/infer.py picks with --show-heads: every '
        'answer has attention panels, which are PyTorch\'s)')
    parser.add_argument(
        '--onnx',
        metavar='FILE',
        help='an ONNX export of the model (fp32 or int8) to run with ONNX '
        'Runtime')
    parser.add_argument(
        '--threads',
        type=int,
        default=None,
        help='CPU threads of ONNX Runtime (default: torch\'s)')
    parser.add_argument(
        '--detector',
        choices=['retinaface', 'haar'],
        default=None,
        help='face detector (default: the config\'s, else retinaface)')
    parser.add_argument(
        '--max-side',
        type=int,
        default=1280,
        help='photos are shrunk to this longer side before detection')
    parser.add_argument(
        '--max-megapixels',
        type=float,
        default=50,
        help='larger images are refused')
    parser.add_argument(
        '--max-upload-mb',
        type=float,
        default=20,
        help='larger files are refused')
    parser.add_argument(
        '--max-queue',
        type=int,
        default=8,
        help='photos waiting at once; more get "busy, try again"')
    add_config_mismatch_argument(parser)
    add_debug_argument(parser)
    return parser.parse_args(argv)


def listen(host: str, port: int) -> socket.socket:
    """Bind the server's socket before the model loads: a port in use is
    one error line at once, and ``--port 0`` gets its real port.

    Raises:
        ListenError: The address cannot be bound.
    """
    try:
        family = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]
        sock = socket.socket(family, socket.SOCK_STREAM)
    except OSError as err:
        raise ListenError(f'--host {host}: not an address of this machine '
                          f'({err.strerror or err}); use 127.0.0.1 (this '
                          'machine) or 0.0.0.0 (every interface)') from None
    # As uvicorn binds: a port just freed by another server can be reused.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        reason = err.strerror or str(err)
        if err.errno == getattr(socket, 'EADDRINUSE', 98) or \
                'in use' in reason:
            reason = 'the port is in use (another server, or another demo)'
        raise ListenError(f'cannot listen on {host}:{port}: {reason}; pick '
                          'another --port (--port 0: any free one)') from None
    return sock


@exit_on_user_error
def main(argv=None):
    args = parse_args(argv)
    try:  # the demo extra, before the checks and the model
        import fastapi  # noqa: F401
        import python_multipart  # noqa: F401 (form uploads)
        import uvicorn
    except ImportError as err:
        raise MissingExtraError(
            f'the web demo needs {err.name or "its extra packages"}: '
            'pip install -r requirements/demo.txt (or pip install '
            '".[demo]")') from err
    if args.config.endswith('.py'):  # not a model name
        check_files_exist(args.config, args.checkpoint
                          or find_last_checkpoint(args.config))
    sock = listen(args.host, args.port)
    from dan_mm.demo import DemoService
    from dan_mm.demo.app import create_app
    from dan_mm.inference import ModelDomainWarning
    from dan_mm.runtime import choose_backend, resolve_model
    from dan_mm.zoo import is_model_name

    warnings.simplefilter('ignore', ModelDomainWarning)  # a note, below
    if is_model_name(args.config):  # its weights, downloaded once
        config, checkpoint = resolve_model(args.config, args.checkpoint)
    else:
        config = args.config
        checkpoint = args.checkpoint or find_last_checkpoint(args.config)
    # The rule of every source; every answer has attention maps.
    backend = choose_backend(
        args.backend, args.onnx, args.device, args.precision, return_maps=True)
    service = DemoService.from_files(
        config,
        checkpoint,
        allow_config_mismatch=args.allow_config_mismatch,
        device=args.device,
        precision=args.precision,
        detector=args.detector,
        backend=backend,
        onnx_file=args.onnx if backend == 'onnxruntime' else None,
        num_threads=args.threads,
        max_side=args.max_side,
        max_pixels=int(args.max_megapixels * 1e6))
    app = create_app(
        service, max_upload_mb=args.max_upload_mb, max_queue=args.max_queue)
    host, port = sock.getsockname()[:2]
    if ':' in host:
        host = f'[{host}]'
    print(
        f'dan_mm web demo: {service.model_name} on {service.device}; '
        f'open http://{host}:{port} (Ctrl+C stops it)',
        flush=True)
    print_note(service.notice)  # the page shows it next to the results too
    server = uvicorn.Server(uvicorn.Config(app, log_level='info'))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # Ctrl+C: uvicorn shut down cleanly, then
        pass  # re-raised it; uvicorn.run() swallows it the same way


if __name__ == '__main__':
    main()
