"""The GPU self-check of dan_mm: every GPU code path, and its speed, in one go.

Run it through ``gpu_check.sh`` next to it (which installs the wheelhouse
first); docs/gpu.md says what each part and number means. Parts, in order,
each with its own time budget inside one overall deadline; a part that fails
or runs out of time is recorded and the next one still runs:

- ``env``: torch, CUDA, cuDNN, GPU, CPUs, package versions (a subprocess);
- ``synthfer``: SynthFER at its default size (in the background, while the
  tests run);
- ``gpu_tests``: ``pytest -m gpu`` (tests/test_cuda.py: forward/backward for
  K = 1 and 4, deploy vs plain, fp16/bf16 autocast, channels-last step);
- ``train_fp32``, ``train_amp``, ``train_amp_cl``: tools/train.py with the
  RAF-DB recipe (224x224 pipeline, batch 256, SGD) on SynthFER for a fixed
  number of iterations, in fp32, with ``--amp`` (fp16) and with ``--amp``
  plus ``model.channels_last=True``: images/s of the training loop, the
  data-loading share of step time, peak GPU memory;
- ``bench_<precision>_<plain|deploy_cl>``: tools/analysis_tools/benchmark.py
  at batch 256 in fp32 / fp16 / bf16, plain and ``--deploy
  --channels-last``;
- ``torchrun``: ``python -m torch.distributed.run --nproc_per_node 1
  tools/train.py ... --launcher pytorch`` (NCCL on a GPU);
- ``full_train`` then ``full_test``: the SynthFER recipe at 224x224 with
  ``--amp`` for 5 epochs, then tools/test.py: top-1 (AMP converges).

It writes ``OUT_DIR/results.json`` and ``OUT_DIR/results.md`` after every
part (so a run killed from outside still leaves them), logs under
``OUT_DIR/logs`` and ``OUT_DIR/logs.tar.gz`` (logs and metrics, no
checkpoints) at the end. ``--cpu-dry-run`` runs the same parts on the CPU
with tiny sizes. Exit status: 0 when no part failed, 1 otherwise.

This driver uses the standard library only and runs every part as a
subprocess, so that it still reports when torch or the OpenMMLab packages
are broken on the machine.
"""
import argparse
import json
import math
import os
import os.path as osp
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import threading
import time
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PYTHON = sys.executable

# Real config files that inherit the recipes; the check sets sizes, data
# root and workers on the command line (--cfg-options).
CONFIGS = osp.join(osp.dirname(osp.abspath(__file__)), 'configs')
SPEED_CONFIG = osp.join(CONFIGS, 'train_speed_rafdb.py')
FULL_CONFIG = osp.join(CONFIGS, 'synthfer_224.py')

# Sizes and time budgets (seconds). On one H100 the parts take about 5 min
# together; the overall deadline keeps the whole run under 8 minutes.
PROFILES = {
    'gpu':
    dict(
        device='cuda',
        deadline=450,
        synthfer_args=[],  # the default: 2800 train + 700 test, 100x100
        speed=dict(batch_size=256, iters=80, skip=20),
        bench=dict(
            batch_size=256,
            iters=30,
            warmup=10,
            image_size=224,
            runs=[(p, v) for p in ('fp32', 'fp16', 'bf16')
                  for v in ('plain', 'deploy_cl')]),
        dist=dict(batch_size=64, iters=10),
        full=dict(
            config=FULL_CONFIG,
            size=224,
            batch_size=32,
            epochs=5,
            min_top1=80.0),
        budgets=dict(
            env=60,
            synthfer=120,
            gpu_tests=150,
            train=90,
            bench=45,
            torchrun=90,
            full_train=150,
            full_test=60)),
    'cpu-dry-run':
    dict(
        device='cpu',
        deadline=600,
        synthfer_args=['--num-train', '28', '--num-test', '14'],
        speed=dict(batch_size=2, iters=3, skip=1),
        # two runs cover every flag; small images, as CPUs emulate fp16
        bench=dict(
            batch_size=2,
            iters=1,
            warmup=1,
            image_size=64,
            runs=[('fp32', 'plain'), ('bf16', 'deploy_cl')]),
        dist=dict(batch_size=2, iters=2),
        # the SynthFER recipe at its own 80 px (the 224-px config only
        # changes the pipelines; a CPU without bf16 emulates --amp slowly)
        full=dict(
            config=osp.join(REPO, 'configs', 'dan_r18_synthfer.py'),
            size=80,
            batch_size=4,
            epochs=1,
            min_top1=None),
        budgets=dict(
            env=60,
            synthfer=120,
            gpu_tests=120,
            train=120,
            bench=90,
            torchrun=120,
            full_train=180,
            full_test=90)),
}

TRAIN_MODES = [
    ('train_fp32', 'fp32', []),
    ('train_amp', '--amp', ['--amp']),  # fp16 on a GPU, bf16 on a CPU
    ('train_amp_cl', '--amp + channels_last',
     ['--amp', '--cfg-options', 'model.channels_last=True']),
]

ENV_PACKAGES = [
    'torchvision', 'mmengine', 'mmcv', 'mmpretrain', 'timm', 'numpy', 'cv2',
    'onnx', 'onnxruntime', 'PIL', 'matplotlib', 'dan_mm'
]


def print_environment():
    """Print one ``ENV_JSON {...}`` line: the benchmarks' record
    (``dan_mm.utils.environment.environment_record``: CPU, versions, date),
    then Python, CUDA, cuDNN, GPU, driver and where each package comes from
    (run as ``--env``, in a subprocess, since importing torch may fail)."""
    import importlib
    import platform
    info = dict(
        python=sys.version.split()[0],
        executable=sys.executable,
        platform=platform.platform(),
        cpu_count=os.cpu_count(),
        cpu=None)
    # DataLoader workers pass batches through /dev/shm
    try:
        info['dev_shm_gib'] = round(
            shutil.disk_usage('/dev/shm').total / 2**30, 1)
    except OSError:
        info['dev_shm_gib'] = None
    import torch
    try:  # the benchmarks' record: CPU name, threads, versions, date
        from dan_mm.utils.environment import environment_record
        info.update(environment_record())
    except Exception:  # a broken dan_mm is recorded under packages
        pass
    info.update(
        torch=torch.__version__,
        torch_cuda=torch.version.cuda,
        cudnn=torch.backends.cudnn.version(),
        cuda_available=torch.cuda.is_available())
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info.update(
            gpu=props.name,
            gpu_count=torch.cuda.device_count(),
            gpu_memory_mib=props.total_memory // 2**20,
            compute_capability=f'{props.major}.{props.minor}')
    try:
        info['driver'] = subprocess.run([
            'nvidia-smi', '--query-gpu=driver_version', '--format=csv,noheader'
        ],
                                        capture_output=True,
                                        text=True,
                                        timeout=30).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        info['driver'] = None
    packages = {}
    for name in ENV_PACKAGES:
        try:
            module = importlib.import_module(name)
            packages[name] = dict(
                version=getattr(module, '__version__', None),
                file=getattr(module, '__file__', None))
        except Exception as err:  # a broken package is the finding
            packages[name] = dict(error=f'{type(err).__name__}: {err}')
    info['packages'] = packages
    # OpenCV 5.x has no Haar cascades (face detection in tools/infer.py);
    # nothing in this check needs them.
    try:
        import cv2
        info['opencv_haar_cascades'] = osp.isfile(
            osp.join(cv2.data.haarcascades,
                     'haarcascade_frontalface_default.xml'))
    except Exception:
        info['opencv_haar_cascades'] = False
    print('ENV_JSON ' + json.dumps(info), flush=True)


def now() -> float:
    return time.monotonic()


def quote(cmd) -> str:
    return ' '.join(shlex.quote(str(c)) for c in cmd)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def tail(path: str, lines: int = 25) -> str:
    try:
        with open(path, errors='replace') as f:
            return ''.join(f.readlines()[-lines:])
    except OSError:
        return ''


class Job:
    """One command in its own process group, output to a log file."""

    def __init__(self, cmd, log, env, cwd=REPO):
        self.cmd = [str(c) for c in cmd]
        self.log = log
        self.start = now()
        self._file = open(log, 'w')
        self._file.write(f'$ {quote(self.cmd)}\n')
        self._file.flush()
        self.proc = subprocess.Popen(
            self.cmd,
            stdout=self._file,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=env,
            start_new_session=True)
        self.end = None
        # notes the end of a job that runs in the background meanwhile
        self._watcher = threading.Thread(target=self._watch, daemon=True)
        self._watcher.start()

    def _watch(self):
        self.proc.wait()
        self.end = now()

    def wait(self, timeout: float):
        """Return ``(returncode or None when it timed out, seconds)``."""
        self._watcher.join(timeout=max(timeout, 0))
        code = self.proc.poll()
        if code is None:
            self.kill()
        self._watcher.join()
        self._file.close()
        return code, self.end - self.start

    def kill(self):
        for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.proc.wait(timeout=grace)
                return
            except subprocess.TimeoutExpired:
                continue


class Check:
    """Runs the parts and keeps the results."""

    def __init__(self, out_dir, profile_name, deadline=None, workers=None):
        self.out_dir = osp.abspath(out_dir)
        self.logs = osp.join(self.out_dir, 'logs')
        self.work = osp.join(self.out_dir, 'work')
        for d in (self.logs, self.work):
            os.makedirs(d, exist_ok=True)
        self.profile = PROFILES[profile_name]
        self.device = self.profile['device']
        self.budgets = self.profile['budgets']
        self.start = now()
        self.deadline = self.start + (deadline or self.profile['deadline'])
        if workers is None:
            # every core but one for the main process, at most 16
            workers = max(1, min(16, (os.cpu_count() or 2) - 1))
        self.workers = workers
        self.data_root = osp.join(self.out_dir, 'data', 'synthfer')
        self.env = dict(os.environ, PYTHONUNBUFFERED='1')
        self.env['PYTHONPATH'] = os.pathsep.join(
            p for p in [REPO, os.environ.get('PYTHONPATH', '')] if p)
        self.results = dict(
            check='dan_mm GPU check',
            mode=profile_name,
            started=datetime.now(timezone.utc).isoformat(timespec='seconds'),
            command=quote([PYTHON] + sys.argv),
            repo=REPO,
            commit=self._commit(),
            deadline_s=round(self.deadline - self.start),
            workers=self.workers,
            environment={},
            parts=[],
            targets=[])
        install = osp.join(self.logs, 'install.json')
        if osp.isfile(install):
            with open(install) as f:
                self.results['parts'].append(json.load(f))

    @staticmethod
    def _commit():
        try:
            return subprocess.run(['git', 'rev-parse', 'HEAD'],
                                  cwd=REPO,
                                  capture_output=True,
                                  text=True,
                                  timeout=10).stdout.strip() or None
        except (OSError, subprocess.SubprocessError):
            return None

    # -- bookkeeping ------------------------------------------------------

    def part(self, name):
        for p in self.results['parts']:
            if p['name'] == name:
                return p
        return None

    def ok(self, name):
        p = self.part(name)
        return p is not None and p['status'] == 'ok'

    def record(self,
               name,
               title,
               status,
               seconds=0.0,
               budget=None,
               commands=(),
               log=None,
               metrics=None,
               error=None):
        entry = dict(
            name=name,
            title=title,
            status=status,
            seconds=round(seconds, 1),
            budget_s=budget,
            commands=[quote(c) for c in commands],
            log=osp.relpath(log, self.out_dir) if log else None,
            metrics=metrics or {},
            error=error)
        self.results['parts'].append(entry)
        note = summarize(entry)
        if error and error.strip():
            note += (' - ' if note else '') + error.strip().splitlines()[-1]
        print(
            f'[gpu_check] {name}: {status} in {seconds:.1f} s'
            f'{" - " + note if note else ""}',
            flush=True)
        self.write()
        return entry

    def remaining(self):
        return self.deadline - now()

    def timeout_for(self, budget):
        return min(budget, self.remaining())

    def run(self,
            name,
            title,
            cmd,
            budget,
            parse=None,
            needs=(),
            ok_codes=(0, )):
        """Run one command as a part; ``parse(log)`` returns
        ``(metrics, error or None)``; ``metrics['status']``, if there,
        replaces ``'ok'``."""
        log = osp.join(self.logs, f'{name}.log')
        missing = [n for n in needs if not self.ok(n)]
        if missing:
            return self.record(
                name,
                title,
                'skipped',
                budget=budget,
                commands=[cmd],
                error=f'needs {", ".join(missing)}, which did not succeed')
        if self.remaining() < 5:
            return self.record(
                name,
                title,
                'not run',
                budget=budget,
                commands=[cmd],
                error='the overall deadline was reached')
        job = Job(cmd, log, self.env)
        return self.finish(name, title, job, budget, parse, ok_codes)

    def finish(self, name, title, job, budget, parse=None, ok_codes=(0, )):
        code, seconds = job.wait(
            self.timeout_for(budget - (now() - job.start)))
        metrics, error = {}, None
        if code is None:
            status = 'timeout'
            error = (f'stopped after {seconds:.0f} s (budget {budget} s or '
                     f'the deadline)\n{tail(job.log)}')
        elif code not in ok_codes:
            status = 'failed'
            error = f'exit status {code}\n{tail(job.log)}'
        else:
            status = 'ok'
        if code is not None and parse is not None:
            try:
                metrics, parse_error = parse(job.log)
            except Exception as err:  # a parse bug is a finding too
                metrics, parse_error = {}, f'{type(err).__name__}: {err}'
            if parse_error and status == 'ok':
                status, error = 'failed', parse_error
            elif status == 'ok':
                status = metrics.pop('status', status)
        return self.record(name, title, status, seconds, budget, [job.cmd],
                           job.log, metrics, error)

    # -- the parts --------------------------------------------------------

    def run_all(self):
        synthfer = self.start_synthfer()
        self.run_env()
        self.run_gpu_tests()
        self.finish_synthfer(synthfer)
        for name, title, args in TRAIN_MODES:
            self.run_train_speed(name, title, args)
        for precision, variant in self.profile['bench']['runs']:
            self.run_benchmark(precision, variant)
        self.run_torchrun()
        self.run_full()
        self.results['targets'] = self.targets()
        self.results['total_s'] = round(now() - self.start, 1)
        self.write()
        self.archive()
        return all(p['status'] in ('ok', 'skipped')
                   for p in self.results['parts'])

    def run_env(self):

        def parse(log):
            with open(log, errors='replace') as f:
                for line in f:
                    if line.startswith('ENV_JSON '):
                        info = json.loads(line[len('ENV_JSON '):])
                        self.results['environment'] = info
                        return dict(
                            torch=info.get('torch'),
                            cuda=info.get('torch_cuda'),
                            gpu=info.get('gpu')), None
            return {}, 'no ENV_JSON line'

        self.run('env', 'environment',
                 [PYTHON, osp.abspath(__file__), '--env'], self.budgets['env'],
                 parse)

    def start_synthfer(self):
        cmd = [
            PYTHON, 'tools/dataset_converters/generate_synthfer.py',
            self.data_root, '--force'
        ] + self.profile['synthfer_args']
        return Job(cmd, osp.join(self.logs, 'synthfer.log'), self.env)

    def finish_synthfer(self, job):

        def parse(log):
            label = osp.join(self.data_root, 'EmoLabel',
                             'list_patition_label.txt')
            if not osp.isfile(label):
                return {}, f'no label file {label}'
            with open(label) as f:
                names = [line.split()[0] for line in f if line.strip()]
            train = sum(n.startswith('train') for n in names)
            return dict(train=train, test=len(names) - train), None

        return self.finish('synthfer', 'SynthFER data', job,
                           self.budgets['synthfer'], parse)

    def run_gpu_tests(self):
        xml = osp.join(self.logs, 'gpu_tests.xml')
        cmd = [
            PYTHON, '-m', 'pytest', *gpu_test_files(), '-m', 'gpu', '-q', '-p',
            'no:cacheprovider', f'--junitxml={xml}'
        ]

        def parse(log):
            root = ET.parse(xml).getroot()
            suite = root if root.tag == 'testsuite' else root.find('testsuite')
            counts = {
                k: int(suite.get(k, 0))
                for k in ('tests', 'failures', 'errors', 'skipped')
            }
            counts['passed'] = (
                counts['tests'] - counts['failures'] - counts['errors'] -
                counts['skipped'])
            if counts['failures'] or counts['errors']:
                return counts, 'failing tests (see the log)'
            if counts['passed'] == 0:
                if self.device == 'cuda':
                    return counts, (
                        'no test ran: is torch.cuda.is_available() '
                        'False?')
                counts['status'] = 'skipped'  # the dry run: no CUDA here
            return counts, None

        # pytest exits 1 when tests fail: the counts decide
        self.run(
            'gpu_tests',
            'tests marked gpu',
            cmd,
            self.budgets['gpu_tests'],
            parse,
            ok_codes=(0, 1))

    def data_options(self, loaders, batch_size, *more):
        """``--cfg-options`` that point ``loaders`` at this check's
        SynthFER with its workers, set the train batch size, and add
        ``more`` (``key=value``)."""
        options = [f'train_dataloader.batch_size={batch_size}']
        for loader in loaders:
            options += [
                f'{loader}.dataset.data_root={self.data_root}',
                f'{loader}.num_workers={self.workers}'
            ]
        return ['--cfg-options', *options, *more]

    def run_train_speed(self, name, title, args):
        speed = self.profile['speed']
        work_dir = osp.join(self.work, name)
        cmd = [
            PYTHON, 'tools/train.py', SPEED_CONFIG, '--work-dir', work_dir,
            '--no-validate', *args
        ] + self.data_options(['train_dataloader'], speed['batch_size'],
                              f'train_cfg.max_iters={speed["iters"]}')

        def parse(log):
            return train_speed(work_dir, speed['batch_size'], speed['skip'])

        self.run(
            name,
            f'training loop, {title}',
            cmd,
            self.budgets['train'],
            parse,
            needs=['synthfer'])

    def run_benchmark(self, precision, variant):
        bench = self.profile['bench']
        name = f'bench_{precision}_{variant}'
        out = osp.join(self.work, f'{name}.json')
        cmd = [
            PYTHON, 'tools/analysis_tools/benchmark.py',
            osp.join(REPO, 'configs', 'dan_r18_rafdb.py'), '--out', out,
            '--device', self.device, '--batch-size', bench['batch_size'],
            '--image-size', bench['image_size'], '--iters', bench['iters'],
            '--warmup', bench['warmup'], '--precision', precision
        ]
        if variant == 'deploy_cl':
            cmd += ['--deploy', '--channels-last']
        title = (f'inference, {precision}, '
                 f'{"plain" if variant == "plain" else "deploy + CL"}')
        self.run(name, title, cmd, self.budgets['bench'],
                 lambda log: benchmark_speed(out))

    def run_torchrun(self):
        dist = self.profile['dist']
        work_dir = osp.join(self.work, 'torchrun')
        cmd = [
            PYTHON, '-m', 'torch.distributed.run', '--nproc_per_node', '1',
            '--master_port',
            free_port(), 'tools/train.py', SPEED_CONFIG, '--launcher',
            'pytorch', '--work-dir', work_dir, '--no-validate', '--amp'
        ] + self.data_options(['train_dataloader'], dist['batch_size'],
                              f'train_cfg.max_iters={dist["iters"]}')

        def parse(log):
            return distributed_run(work_dir, dist['iters'])

        self.run(
            'torchrun',
            'torchrun, 1 process, --launcher pytorch',
            cmd,
            self.budgets['torchrun'],
            parse,
            needs=['synthfer'])

    def run_full(self):
        full, epochs = self.profile['full'], self.profile['full']['epochs']
        # --no-validate drops val_dataloader: train and test, each its own
        options = self.data_options(['train_dataloader'], full['batch_size'],
                                    f'train_cfg.max_epochs={epochs}',
                                    f'train_cfg.val_interval={epochs}')
        work_dir = osp.join(self.work, 'full_train')
        self.run(
            'full_train',
            f'SynthFER training, {full["size"]}px, --amp, {epochs} epochs', [
                PYTHON, 'tools/train.py', full['config'], '--work-dir',
                work_dir, '--no-validate', '--amp', *options
            ],
            self.budgets['full_train'],
            lambda log: full_training(work_dir),
            needs=['synthfer'])
        metrics_file = osp.join(self.work, 'full_test', 'metrics.json')
        checkpoint = osp.join(work_dir, f'epoch_{epochs}.pth')

        def parse(log):
            with open(metrics_file) as f:
                metrics = json.load(f)
            top1 = metrics.get('fer/top1')
            result = dict(
                top1=top1, balanced_accuracy=metrics.get('fer/balanced_acc'))
            if top1 is None:
                return result, f'no fer/top1 in {metrics_file}'
            if full['min_top1'] is not None and top1 < full['min_top1']:
                return result, (f'top-1 {top1:.2f}% < {full["min_top1"]}%: '
                                'AMP training did not converge')
            return result, None

        self.run(
            'full_test',
            'tools/test.py on the trained model', [
                PYTHON, 'tools/test.py', full['config'], checkpoint,
                '--work-dir',
                osp.join(self.work, 'full_test'), '--out', metrics_file,
                '--out-item', 'metrics',
                *self.data_options(['test_dataloader'], full['batch_size'])
            ],
            self.budgets['full_test'],
            parse,
            needs=['full_train'])

    # -- summaries --------------------------------------------------------

    def targets(self):
        """The issue's targets; on the CPU dry run they do not apply."""
        speed = {
            name: (self.part(name) or {}).get('metrics', {})
            for name, _, _ in TRAIN_MODES
        }
        fp32 = speed['train_fp32'].get('images_per_s')
        fast = speed['train_amp_cl'].get('images_per_s')
        share = speed['train_amp_cl'].get('data_share')
        bench = (self.part('bench_fp16_plain') or {}).get('metrics', {})
        applies = self.device == 'cuda'
        return [
            target('AMP + channels_last training vs fp32 (images/s ratio)',
                   fast / fp32 if fast and fp32 else None, '>=', 3.0, applies),
            target(
                f'data loading share of step time, AMP + channels_last, '
                f'{self.workers} workers', share, '<', 0.10, applies),
            target('fp16 eager inference, batch 256 (images/s, one H100)',
                   bench.get('model'), '>=', 5000.0, applies),
        ]

    def write(self):
        with open(osp.join(self.out_dir, 'results.json'), 'w') as f:
            json.dump(self.results, f, indent=1)
        with open(osp.join(self.out_dir, 'results.md'), 'w') as f:
            f.write(markdown(self.results))

    def archive(self):
        """logs.tar.gz: logs, generated configs, metrics; no checkpoints."""
        keep = ('.log', '.json', '.py', '.xml', '.png')
        with tarfile.open(osp.join(self.out_dir, 'logs.tar.gz'), 'w:gz') as t:
            for folder in (self.logs, self.work):
                for root, _, files in os.walk(folder):
                    for name in sorted(files):
                        if name.endswith(keep):
                            path = osp.join(root, name)
                            t.add(path, osp.relpath(path, self.out_dir))


def gpu_test_files():
    """The test modules with tests marked ``gpu`` (collecting only these
    keeps an unrelated module's missing package out of this part)."""
    folder = osp.join(REPO, 'tests')
    found = []
    for name in sorted(os.listdir(folder)):
        if name.startswith('test_') and name.endswith('.py'):
            with open(osp.join(folder, name)) as f:
                if 'mark.gpu' in f.read():
                    found.append(osp.join('tests', name))
    return found


def target(name, value, op, threshold, applies):
    met = None
    if value is not None and applies:
        met = value >= threshold if op == '>=' else value < threshold
    return dict(
        name=name,
        value=value,
        op=op,
        threshold=threshold,
        met=met,
        applies=applies)


def scalars(work_dir):
    """The training records of mmengine's ``vis_data/scalars.json``."""
    found = []
    for root, _, files in os.walk(work_dir):
        if 'scalars.json' in files and root.endswith('vis_data'):
            found.append(osp.join(root, 'scalars.json'))
    if not found:
        return []
    with open(sorted(found)[-1]) as f:
        records = [json.loads(line) for line in f if line.strip()]
    return [r for r in records if 'time' in r and 'data_time' in r]


def train_speed(work_dir, batch_size, skip):
    """images/s, data share and peak memory over the iterations after
    ``skip`` (warm-up: cuDNN, workers filling their queues)."""
    records = scalars(work_dir)
    if len(records) <= skip:
        return {}, (f'{len(records)} iterations logged in {work_dir}, '
                    f'need more than {skip}')
    measured = records[skip:]
    total = sum(r['time'] for r in measured)
    data = sum(r['data_time'] for r in measured)
    last = records[-1]
    losses = {k: v for k, v in last.items() if k.startswith('loss')}
    memory = [r['memory'] for r in records if 'memory' in r]
    metrics = dict(
        batch_size=batch_size,
        iterations=len(records),
        measured_iterations=len(measured),
        images_per_s=round(batch_size * len(measured) / total, 1),
        step_ms=round(1000 * total / len(measured), 1),
        data_ms=round(1000 * data / len(measured), 1),
        data_share=round(data / total, 4),
        peak_memory_mib=max(memory) if memory else None,
        losses=losses)
    bad = [k for k, v in losses.items() if not math.isfinite(v)]
    if bad or 'loss' not in losses:
        return metrics, f'non-finite or missing losses: {losses}'
    return metrics, None


def benchmark_speed(path):
    """images/s of each part, from the JSON that ``benchmark.py --out``
    writes (dan_mm.analysis.benchmark_speed_of_config)."""
    with open(path) as f:
        result = json.load(f)
    metrics = {p['part']: p['images_per_s'] for p in result['parts']}
    if 'model' not in metrics:
        return metrics, f'no "model" part in {path}'
    return metrics, None


def full_training(work_dir):
    """Iterations and the last losses of a training run."""
    records = scalars(work_dir)
    if not records:
        return {}, f'no training log in {work_dir}'
    losses = {k: v for k, v in records[-1].items() if k.startswith('loss')}
    # logged every 20 iterations and at the end: the last says how many
    metrics = dict(iterations=records[-1].get('iter'), losses=losses)
    if not all(math.isfinite(v) for v in losses.values()):
        return metrics, f'non-finite losses: {losses}'
    return metrics, None


def distributed_run(work_dir, iters):
    """The backend mmengine used and the iterations that ran."""
    records = scalars(work_dir)
    backend = None
    for root, _, files in os.walk(work_dir):
        for name in files:
            if name.endswith('.log'):
                with open(osp.join(root, name), errors='replace') as f:
                    text = f.read()
                for word in ('nccl', 'gloo'):
                    if f"backend='{word}'" in text:
                        backend = word
    metrics = dict(iterations=len(records), backend=backend)
    if len(records) != iters:
        return metrics, f'{len(records)} of {iters} iterations logged'
    return metrics, None


def summarize(part):
    m = part.get('metrics') or {}
    name = part['name']
    if name.startswith('train_') and 'images_per_s' in m:
        mem = m.get('peak_memory_mib')
        return (f'{m["images_per_s"]:.0f} img/s, data '
                f'{100 * m["data_share"]:.1f}%, peak '
                f'{"-" if mem is None else f"{mem} MiB"}')
    if name.startswith('bench_') and 'model' in m:
        return f'model {m["model"]:.0f} img/s'
    if name == 'gpu_tests' and 'tests' in m:
        return (f'{m["passed"]} passed, {m["failures"]} failed, '
                f'{m["errors"]} errors, {m["skipped"]} skipped')
    if name == 'full_test' and m.get('top1') is not None:
        return f'top-1 {m["top1"]:.2f}%'
    if name == 'full_train' and 'losses' in m:
        return (f'{m["iterations"]} iterations, last loss '
                f'{fmt(m["losses"].get("loss"), ".3f")}')
    if name == 'torchrun' and 'backend' in m:
        return f'{m["iterations"]} iterations, backend {m["backend"]}'
    if name == 'synthfer' and 'train' in m:
        return f'{m["train"]} train + {m["test"]} test images'
    if name == 'env' and m:
        return (f'torch {m.get("torch")}, CUDA {m.get("cuda")}, '
                f'{m.get("gpu") or "no GPU"}')
    if name == 'install' and 'wheels' in m:
        return f'{m["wheels"]} wheels into {m.get("target")}'
    return ''


def fmt(value, spec='.1f', none='-'):
    return none if value is None else format(value, spec)


def markdown(results):
    env = results.get('environment') or {}
    gpu = env.get('gpu') or ('CPU dry run'
                             if results['mode'] != 'gpu' else 'no GPU found')
    lines = [
        f'# dan_mm GPU check: {gpu}', '',
        f'{results["started"]}, mode `{results["mode"]}`; torch '
        f'{env.get("torch", "?")} (CUDA {env.get("torch_cuda")}, cuDNN '
        f'{env.get("cudnn")}), driver {env.get("driver")}, Python '
        f'{env.get("python", "?")}, {env.get("cpu_count", "?")} CPUs '
        f'({env.get("cpu")}); dan_mm commit {results.get("commit")}; '
        f'{results.get("total_s", "?")} s of a {results["deadline_s"]} s '
        f'deadline; data-loader workers: {results["workers"]}.', '',
        '| part | status | s (budget) | result |', '|---|---|---|---|'
    ]
    for p in results['parts']:
        note = summarize(p) or ''
        if p.get('error') and p['status'] != 'ok':
            note = (note + ' ' if note else
                    '') + p['error'].strip().splitlines()[-1][:120].replace(
                        '|', '/')
        lines.append(f'| {p["name"]} | {p["status"]} | {p["seconds"]} '
                     f'({p.get("budget_s") or "-"}) | {note} |')

    parts = {p['name']: p for p in results['parts']}
    speed = [(parts.get(name), title) for name, title, _ in TRAIN_MODES]
    if any(p and p['metrics'] for p, _ in speed):
        base = (parts.get('train_fp32') or {}).get('metrics',
                                                   {}).get('images_per_s')
        first = next(p for p, _ in speed if p and p['metrics'])['metrics']
        lines += [
            '', f'## Training loop (RAF-DB recipe, 224x224, batch '
            f'{first["batch_size"]}, workers: {results["workers"]}, '
            f'iterations '
            f'{first["iterations"] - first["measured_iterations"] + 1}'
            f'-{first["iterations"]} measured)', '',
            '| mode | images/s | step (ms) | data (ms) | data share | '
            'peak GPU memory (MiB) | last loss | vs fp32 |',
            '|---|---|---|---|---|---|---|---|'
        ]
        for p, title in speed:
            m = (p or {}).get('metrics') or {}
            if not m:
                continue
            ratio = (m['images_per_s'] / base if base else None)
            lines.append(
                f'| {title} | {fmt(m["images_per_s"])} | {m["step_ms"]} | '
                f'{m["data_ms"]} | {100 * m["data_share"]:.1f}% | '
                f'{fmt(m.get("peak_memory_mib"), "d")} | '
                f'{fmt(m["losses"].get("loss"), ".3f")} | '
                f'{fmt(ratio, ".2f")}x |')

    bench = [p for p in results['parts'] if p['name'].startswith('bench_')]
    if any(p['metrics'] for p in bench):
        lines += [
            '', '## Inference (tools/analysis_tools/benchmark.py), images/s',
            '', '| precision | variant | model | backbone | neck+head |',
            '|---|---|---|---|---|'
        ]
        for p in bench:
            m = p['metrics']
            _, precision, variant = p['name'].split('_', 2)
            lines.append(
                f'| {precision} | '
                f'{"plain" if variant == "plain" else "deploy + CL"} | '
                f'{fmt(m.get("model"))} | {fmt(m.get("backbone"))} | '
                f'{fmt(m.get("neck+head"))} |')

    if results.get('targets'):
        lines += [
            '', '## Targets', '', '| target | value | wanted | met |',
            '|---|---|---|---|'
        ]
        for t in results['targets']:
            met = ('n/a (CPU dry run)' if not t['applies'] else
                   '-' if t['met'] is None else 'yes' if t['met'] else 'NO')
            lines.append(f'| {t["name"]} | {fmt(t["value"], ".3g")} | '
                         f'{t["op"]} {t["threshold"]:g} | {met} |')

    lines += ['', '## Commands', '', '```', results['command']]
    for p in results['parts']:
        lines += p.get('commands') or []
    lines += ['```', '']
    return '\n'.join(lines)


def parse_args():
    parser = argparse.ArgumentParser(
        description='dan_mm GPU self-check (use .ci/gpu/gpu_check.sh)')
    parser.add_argument(
        'out_dir', nargs='?', help='results, logs and work folders')
    parser.add_argument(
        '--cpu-dry-run',
        action='store_true',
        help='the same parts on the CPU with tiny sizes')
    parser.add_argument(
        '--deadline',
        type=float,
        help='overall seconds for every part together (default: 450 on a '
        'GPU, 600 for the dry run)')
    parser.add_argument(
        '--workers',
        type=int,
        help='data-loader workers (default: CPUs - 1, at most 16)')
    parser.add_argument(
        '--env',
        action='store_true',
        help='only print the environment as one ENV_JSON line')
    args = parser.parse_args()
    if not args.env and args.out_dir is None:
        parser.error('OUT_DIR is needed')
    return args


def main():
    args = parse_args()
    if args.env:
        print_environment()
        return 0
    profile = 'cpu-dry-run' if args.cpu_dry_run else 'gpu'
    check = Check(args.out_dir, profile, args.deadline, args.workers)
    ok = check.run_all()
    with open(osp.join(check.out_dir, 'results.md')) as f:
        print(f.read())
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
