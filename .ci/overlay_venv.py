"""Make a virtual environment that sees this interpreter's packages.

``python -m venv --system-site-packages`` links a new venv to the *base*
interpreter's site-packages: run from inside a virtual environment, the new
venv misses that environment's packages (torch, a recent setuptools) and
gets the base's instead (an old setuptools: "invalid command
'bdist_wheel'"). This makes the venv without pip and writes a ``.pth`` file
into it that adds this interpreter's site-packages, their own ``.pth``
files included, after the venv's own: what is installed into the venv comes
first, everything else is what this Python has. tests/test_mim_cli.py and
.ci/gpu/make_wheelhouse.sh use it.

    python .ci/overlay_venv.py DIR
"""
import os.path as osp
import site
import subprocess
import sys


def main():
    venv = sys.argv[1]
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip', venv],
                   check=True)
    dirs = site.getsitepackages()
    if site.ENABLE_USER_SITE:
        dirs.append(site.getusersitepackages())
    python = osp.join(venv, 'bin', 'python')
    purelib = subprocess.run([
        python, '-c', 'import sysconfig; print(sysconfig.get_path("purelib"))'
    ],
                             capture_output=True,
                             text=True,
                             check=True).stdout.strip()
    # one line: a .pth line that starts with "import" is run
    with open(osp.join(purelib, 'outer_site_packages.pth'), 'w') as f:
        f.write('import site; ' + '; '.join(f'site.addsitedir({d!r})'
                                            for d in dirs if osp.isdir(d)) +
                '\n')


if __name__ == '__main__':
    main()
