"""collect_inputs: folders expand (also inside a list), every image gets
an output name of its own, and what a folder holds that is not read is
reported."""
import numpy as np

from dan_mm.inference.image_inputs import collect_inputs, inputs_to_list


def touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b'')
    return str(path)


def test_same_stems_keep_their_extension(tmp_path):
    for name in ('a.jpg', 'a.png', 'b.jpg', 'B.PNG', 'c.jpeg'):
        touch(tmp_path / name)
    inputs = collect_inputs(str(tmp_path))
    assert [p.rsplit('/', 1)[1] for p in inputs.items
            ] == ['B.PNG', 'a.jpg', 'a.png', 'b.jpg', 'c.jpeg']
    # b and B would be one file on a case-blind file system
    assert inputs.names == ['B_PNG', 'a_jpg', 'a_png', 'b_jpg', 'c']
    assert len(set(inputs.names)) == len(inputs.items)


def test_subfolders_are_reported_or_read_with_their_path(tmp_path):
    touch(tmp_path / 'a.jpg')
    touch(tmp_path / 'notes.txt')
    touch(tmp_path / 'sub' / 'a.jpg')
    touch(tmp_path / 'sub' / 'deeper' / 'c.png')
    flat = collect_inputs(tmp_path)
    assert flat.items == [str(tmp_path / 'a.jpg')] and flat.names == ['a']
    assert flat.subfolders == [str(tmp_path / 'sub')]
    assert flat.other_files == [str(tmp_path / 'notes.txt')]
    deep = collect_inputs(tmp_path, recursive=True)
    assert deep.names == ['a', 'sub/a', 'sub/deeper/c']
    assert deep.subfolders == []


def test_a_list_expands_its_folders(tmp_path):
    """docs/inference.md: inputs are a path, an array, a folder or a list
    of these."""
    photo = touch(tmp_path / 'photo.jpg')
    touch(tmp_path / 'folder' / 'x.png')
    touch(tmp_path / 'folder' / 'y.png')
    array = np.zeros((4, 4, 3), np.uint8)
    inputs = collect_inputs([photo, tmp_path / 'folder', array])
    assert inputs.items[:3] == [
        photo,
        str(tmp_path / 'folder' / 'x.png'),
        str(tmp_path / 'folder' / 'y.png')
    ]
    assert inputs.items[3] is array
    assert inputs.names == ['photo', 'x', 'y', '000003']
    assert inputs_to_list([photo, str(tmp_path / 'folder')]) == \
        inputs.items[:3]
    assert collect_inputs(inputs) is inputs


def test_the_same_file_name_from_two_folders_is_numbered(tmp_path):
    one = touch(tmp_path / 'x' / 'a.jpg')
    two = touch(tmp_path / 'y' / 'a.jpg')
    assert collect_inputs([one, two,
                           one]).names == ['a_jpg', 'a_jpg_2', 'a_jpg_3']
