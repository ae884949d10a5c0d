"""ONNX export (plain and deploy) with a dynamic batch, against PyTorch."""
import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from fer_test_utils import CONFIG, build_model, save_checkpoint
from mmengine.config import Config
from tool_runner import run_tool

from dan_mm.runtime import onnx_export

PYTORCH2ONNX = 'tools/deployment/pytorch2onnx.py'


def test_export_size_follows_the_test_pipeline_and_refuses_bad_input(tmp_path):
    """The export's own logic, without exporting (fast)."""
    assert onnx_export.inference_image_size(Config.fromfile(CONFIG)) == 80
    model = build_model(num_heads=1)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(
            onnx_export.LogitsModel(model)(x), model(x, mode='tensor'))
    code, _, stderr = run_tool(onnx_export.export_checkpoint,
                               Config.fromfile(CONFIG),
                               str(tmp_path / 'nope.pth'),
                               str(tmp_path / 'dan.onnx'))
    assert code == 1 and 'checkpoint not found' in stderr
    assert not (tmp_path / 'dan.onnx').exists()


@pytest.mark.slow
@pytest.mark.parametrize('deploy', [False, True])
def test_onnx_matches_pytorch(tmp_path, deploy):
    model = build_model()
    ckpt = save_checkpoint(model, tmp_path / 'dan.pth')
    out = tmp_path / 'dan.onnx'
    extra = ['--deploy'] if deploy else []
    result = run_tool(
        PYTORCH2ONNX,
        CONFIG,
        ckpt,
        out,
        '--image-size',
        64,
        '--no-verify',
        *extra,
        in_process=False)
    assert result.returncode == 0, result.stderr

    graph = onnx.load(str(out)).graph
    assert graph.input[0].type.tensor_type.shape.dim[0].dim_param == 'batch'
    groups = {
        attr.i
        for node in graph.node if node.op_type == 'Conv'
        for attr in node.attribute if attr.name == 'group'
    }
    assert (4 in groups) == deploy  # the K=4 heads as one grouped conv
    session = ort.InferenceSession(
        str(out), providers=['CPUExecutionProvider'])
    for batch in (1, 3):
        x = torch.randn(batch, 3, 64, 64)
        with torch.no_grad():
            expected = model(x, mode='tensor').numpy()  # the unfused model
        (got, ) = session.run(None, {'input': x.numpy()})
        assert got.shape == (batch, 7)
        assert np.abs(got - expected).max() <= 1e-4
