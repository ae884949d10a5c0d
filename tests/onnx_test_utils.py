"""A tiny valid ONNX classifier, for tests of the ONNX Runtime backend."""
import numpy as np
import onnx
from fer_test_utils import CLASSES
from onnx import TensorProto, helper


def tiny_onnx(path, image_size=80, num_classes=len(CLASSES)):
    """A valid ONNX classifier of the given input side and classes
    (global average pool, then a linear layer)."""
    weights = helper.make_tensor('w', TensorProto.FLOAT, [3, num_classes],
                                 np.ones(3 * num_classes, np.float32))
    graph = helper.make_graph([
        helper.make_node('GlobalAveragePool', ['input'], ['pooled']),
        helper.make_node('Flatten', ['pooled'], ['flat']),
        helper.make_node('MatMul', ['flat', 'w'], ['logits']),
    ], 'tiny', [
        helper.make_tensor_value_info('input', TensorProto.FLOAT,
                                      ['batch', 3, image_size, image_size])
    ], [
        helper.make_tensor_value_info('logits', TensorProto.FLOAT,
                                      ['batch', num_classes])
    ], [weights])
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid('', 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return str(path)
