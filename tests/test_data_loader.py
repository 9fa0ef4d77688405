"""The data chapter's exported code: behaviour on good input and clear errors on bad
input.
"""

import hashlib

import numpy as np
import pytest

from rnnbook.data import (
    CorpusError,
    DataLoader,
    Vocabulary,
    explain,
    fetch_corpus,
    in_scratch_folder,
    read_text,
)

TEXT = (
    "Supposing that Truth is a woman--what then?\n"
    "Is there not ground for suspecting...\n"
) * 20


@pytest.fixture
def loader():
    return DataLoader(TEXT, val_fraction=0.1, seed=7)


def test_vocabulary_and_round_trip(loader):
    assert loader.chars == sorted(set(TEXT.lower()))
    assert loader.decode(loader.encode(TEXT.lower())) == TEXT.lower()
    assert len(loader.splits["train"]) + len(loader.splits["val"]) == len(TEXT)


def test_validation_split_is_the_tail(loader):
    np.testing.assert_array_equal(
        loader.splits["val"], loader.encode(TEXT.lower()[-len(loader.splits["val"]) :])
    )


@pytest.mark.parametrize("split", ["train", "val"])
def test_batches_are_windows_of_the_split(loader, split):
    X, y = loader.get_batch(12, 9, split=split)
    assert X.shape == (9, 12) and y.shape == (9,)
    data = loader.decode(loader.splits[split])
    for row, target in zip(X, y):
        assert loader.decode(row) + loader.decode([target]) in data
    X, Y = loader.get_batch(12, 9, split=split, all_targets=True)
    assert Y.shape == (9, 12)
    np.testing.assert_array_equal(X[:, 1:], Y[:, :-1])


def test_seed_makes_batches_reproducible():
    a = DataLoader(TEXT, seed=3).get_batch(10, 4)
    b = DataLoader(TEXT, seed=3).get_batch(10, 4)
    c = DataLoader(TEXT, seed=4).get_batch(10, 4)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(seq_length=0, batch_size=2), "seq_length must be a positive integer"),
        (dict(seq_length=5, batch_size=0), "batch_size must be a positive integer"),
        (dict(seq_length=2.5, batch_size=2), "seq_length must be a positive integer"),
        (dict(seq_length=True, batch_size=2), "seq_length must be a positive integer"),
        (dict(seq_length=10_000, batch_size=2), "too long for the train split"),
        (dict(seq_length=5, batch_size=2, split="test"), "split must be"),
    ],
)
def test_impossible_batches_are_refused(loader, kwargs, message):
    with pytest.raises(ValueError, match=message):
        loader.get_batch(**kwargs)


def test_longest_possible_window_works(loader):
    n = len(loader.splits["val"])
    X, y = loader.get_batch(n - 1, 3, split="val")
    assert X.shape == (3, n - 1)


def test_unknown_characters_are_named(loader):
    with pytest.raises(ValueError, match=r"'é' \(U\+00E9\)"):
        loader.encode("café")


def test_the_vocabulary_alone():
    vocabulary = Vocabulary("noble")
    assert vocabulary.chars == ["b", "e", "l", "n", "o"] and vocabulary.num_chars == 5
    assert vocabulary.decode(vocabulary.encode("lobe")) == "lobe"
    with pytest.raises(ValueError, match=r"'x' \(U\+0078\)"):
        vocabulary.encode("box")


@pytest.mark.parametrize("fraction", [-0.1, 1.0, 1.5])
def test_impossible_validation_fractions_are_refused(fraction):
    with pytest.raises(ValueError, match=r"val_fraction must be in \[0, 1\)"):
        DataLoader(TEXT, val_fraction=fraction)


def test_explain_prints_the_error_wrapped_to_the_page(capsys):
    loader = DataLoader(TEXT)
    explain(lambda: loader.get_batch(10_000, 2))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("ValueError: seq_length=10000 is too long")
    assert len(lines) > 1 and all(len(line) <= 88 for line in lines)


def test_demonstrations_leave_no_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with in_scratch_folder():
        open("demo.txt", "w").close()
    assert list(tmp_path.iterdir()) == []


def test_empty_text_is_refused():
    with pytest.raises(ValueError, match="empty"):
        DataLoader("")


def test_bad_files_are_refused(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"  \n")
    (tmp_path / "latin1.txt").write_bytes("böse".encode("latin-1"))
    with pytest.raises(ValueError, match="is empty"):
        read_text(tmp_path / "empty.txt")
    with pytest.raises(ValueError, match="not UTF-8 text .byte 1"):
        read_text(tmp_path / "latin1.txt")


OFFLINE = "http://127.0.0.1:9/nietzsche.txt"  # a local port that refuses connections


def test_cached_corpus_is_verified_and_used(tmp_path):
    content = b"a tiny stand-in corpus\n"
    target = tmp_path / "datasets" / "tiny.txt"
    target.parent.mkdir()
    target.write_bytes(content)
    digest = hashlib.sha256(content).hexdigest()
    path = fetch_corpus("tiny.txt", url=OFFLINE, sha256=digest, cache_dir=tmp_path)
    assert open(path, "rb").read() == content


def test_missing_corpus_offline_says_where_to_put_it(tmp_path):
    with pytest.raises(CorpusError, match="copy the verified file") as err:
        fetch_corpus(url=OFFLINE, cache_dir=tmp_path)
    assert str(tmp_path / "datasets" / "nietzsche.txt") in str(err.value)


def test_damaged_corpus_is_never_used_and_never_lost(tmp_path):
    target = tmp_path / "datasets" / "nietzsche.txt"
    target.parent.mkdir()
    target.write_text("truncated")
    with pytest.raises(CorpusError, match="wrong SHA-256"):
        fetch_corpus(url=OFFLINE, cache_dir=tmp_path)
    assert (tmp_path / "datasets" / "nietzsche.txt.damaged").read_text() == "truncated"
    assert not target.exists()


def test_the_real_corpus():
    """The canonical file (in the Keras cache, as .ci/run arranges) has the documented
    shape.
    """
    loader = DataLoader(read_text(fetch_corpus()))
    assert len(loader.text) == 600_893 and loader.num_chars == 57


def test_a_second_damaged_copy_does_not_replace_the_first(tmp_path):
    target = tmp_path / "datasets" / "nietzsche.txt"
    target.parent.mkdir()
    for content in ("first", "second"):
        target.write_text(content)
        with pytest.raises(CorpusError, match="wrong SHA-256"):
            fetch_corpus(url=OFFLINE, cache_dir=tmp_path)
    assert (tmp_path / "datasets" / "nietzsche.txt.damaged").read_text() == "first"
    assert (tmp_path / "datasets" / "nietzsche.txt.damaged.1").read_text() == "second"


def test_the_cache_folder_is_made_where_the_error_says(tmp_path):
    """get_file would fall back to /tmp/.keras for a cache folder that does not exist
    yet; fetch_corpus creates it, so the file is looked for where the message says."""
    home = tmp_path / "new-keras-home"
    with pytest.raises(CorpusError, match="copy the verified file"):
        fetch_corpus(url=OFFLINE, cache_dir=home)
    assert (home / "datasets").is_dir()


def test_a_download_with_the_wrong_hash_is_named_and_set_aside(tmp_path):
    served = tmp_path / "served.txt"
    served.write_text("not the corpus")
    with pytest.raises(CorpusError, match="sent a file with the wrong"):
        fetch_corpus(url=served.as_uri(), cache_dir=tmp_path / "k")
    assert (tmp_path / "k" / "datasets" / "nietzsche.txt.damaged").exists()
    assert not (tmp_path / "k" / "datasets" / "nietzsche.txt").exists()
