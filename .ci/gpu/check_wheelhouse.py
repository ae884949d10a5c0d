"""Check a wheelhouse for an offline install on a GPU machine.

Every wheel must install on the target Python (pure Python, or built for
that CPython on manylinux x86_64), each package must appear once, every
dependency (for that Python on Linux, without extras) must be either in the
wheelhouse, at a version it accepts, or among the packages the machine
already has, and the whole must stay under a size limit.

Example:
    python .ci/gpu/check_wheelhouse.py wheelhouse
"""
import argparse
import email.parser
import os
import os.path as osp
import sys
import zipfile

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

# What the GPU machines' image has (docs/gpu.md): the wheelhouse must not
# carry these. opencv-python is satisfied by the headless build there.
MACHINE_PROVIDES = [
    'torch', 'torchvision', 'timm', 'numpy', 'matplotlib', 'pillow',
    'opencv-python-headless', 'onnx', 'onnxruntime', 'pyyaml', 'rich',
    'packaging', 'einops', 'click', 'markdown', 'zipp', 'tqdm', 'requests',
    'regex', 'filelock', 'typing-extensions', 'urllib3'
]  # the last three come with torch and requests
ALIASES = {'opencv-python': 'opencv-python-headless'}


def tag_fits(tag, python_version: str) -> bool:
    """Whether a wheel tag installs on CPython ``python_version`` (e.g.
    '3.12') on Linux x86_64."""
    major, minor = python_version.split('.')
    cp = f'cp{major}{minor}'
    interpreter = tag.interpreter in (f'py{major}', f'py{major}{minor}', cp)
    abi = tag.abi in ('none', 'abi3', cp)
    platform = tag.platform == 'any' or (tag.platform.startswith('manylinux')
                                         and tag.platform.endswith('x86_64'))
    return interpreter and abi and platform


def requirements(wheel: str, python_version: str):
    """The wheel's dependencies for ``python_version`` on Linux x86_64,
    without extras."""
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist()
                    if n.endswith('.dist-info/METADATA'))
        meta = email.parser.Parser().parsestr(zf.read(name).decode())
    env = default_environment()
    env.update(
        python_version=python_version,
        python_full_version=f'{python_version}.0',
        sys_platform='linux',
        platform_system='Linux',
        platform_machine='x86_64',
        os_name='posix',
        implementation_name='cpython',
        platform_python_implementation='CPython',
        extra='')
    reqs = []
    for line in meta.get_all('Requires-Dist') or []:
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate(env):
            reqs.append(req)
    return reqs


def check(folder: str,
          python_version: str = '3.12',
          provided=MACHINE_PROVIDES,
          max_mb: float = 20.0):
    """Return ``(wheels, problems)``: ``{name: (version, file)}`` and a list
    of one-line problems (empty when the wheelhouse is fine)."""
    problems = []
    wheels = {}
    files = sorted(f for f in os.listdir(folder) if f.endswith('.whl'))
    if not files:
        return wheels, [f'no wheels in {folder}']
    for file in files:
        name, version, _, tags = parse_wheel_filename(file)
        if not any(tag_fits(tag, python_version) for tag in tags):
            problems.append(f'{file}: does not install on CPython '
                            f'{python_version}, Linux x86_64')
        if name in wheels:
            problems.append(f'{name}: two versions, {wheels[name][1]} and '
                            f'{file} (pip refuses to install both)')
        wheels[name] = (version, file)
    have = {canonicalize_name(p) for p in provided}
    for name, (version, file) in wheels.items():
        if name in have:
            problems.append(f'{file}: the machine already has {name}')
        for req in requirements(osp.join(folder, file), python_version):
            dep = canonicalize_name(req.name)
            dep = canonicalize_name(ALIASES.get(dep, dep))
            if dep in wheels:
                if not req.specifier.contains(
                        wheels[dep][0], prereleases=True):
                    problems.append(f'{file} needs {req}, the wheelhouse has '
                                    f'{dep} {wheels[dep][0]}')
            elif dep not in have:
                problems.append(f'{file} needs {req}: neither in the '
                                'wheelhouse nor on the machine')
    size = sum(osp.getsize(osp.join(folder, f)) for f in files) / 2**20
    if size > max_mb:
        problems.append(f'{size:.1f} MB of wheels, more than {max_mb} MB')
    return wheels, problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('folder', help='the wheelhouse')
    parser.add_argument('--python-version', default='3.12')
    parser.add_argument('--max-mb', type=float, default=20.0)
    args = parser.parse_args()
    wheels, problems = check(args.folder, args.python_version,
                             MACHINE_PROVIDES, args.max_mb)
    size = sum(
        osp.getsize(osp.join(args.folder, f))
        for _, f in wheels.values()) / 2**20
    print(f'{len(wheels)} wheels, {size:.1f} MB: ' +
          ', '.join(f'{n}=={v}' for n, (v, _) in sorted(wheels.items())))
    for problem in problems:
        print(f'problem: {problem}')
    print('wheelhouse: ' +
          ('fine' if not problems else f'{len(problems)} problem(s)'))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
