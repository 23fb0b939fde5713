"""The zoomable picture (``explorer.zoomable_picture``): the files the browser's script
fetches are the picture byte for byte and its values exactly, the data it receives names
them, and what it cannot draw is refused with a message naming the argument. (The
zooming, the linking and the readout in the browser: ``tests/test_browser.py`` and
``tests/test_steady_browser.py``.)"""

from __future__ import annotations

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from explorer.image_bytes import coloured_jpeg, coloured_png
from explorer.zoomable_picture import payload, picture_mime, values_bytes

#: A page with one zoomable picture that reads back, while it runs, the two files it
#: served (from Streamlit's media store, as the browser would fetch them).
PAGE = """
import json
import numpy as np
import streamlit as st
from streamlit import runtime
from explorer.image_bytes import coloured_png
from explorer.zoomable_picture import zoomable_picture

values = np.random.default_rng(0).random((12, 20)) - 0.25  # not square, negative values too
picture = coloured_png(values, (0.0, 1.0), "viridis")
zoomable_picture(picture, values, "|error| FIRENET, paper's 5 x 5", key="k", link="image", text_size=20)
files = runtime.get_instance().media_file_mgr
served = {}
for address in st.session_state.get("addresses", []):
    file = files.read_file(address.rsplit("/", 1)[1].split(".")[0])
    served[address] = [file.mimetype, file.content.hex()]
st.text(json.dumps({"picture": picture.hex(), "values": np.asarray(values, "<f4").tobytes().hex(), "served": served}))
"""


def zoomable_data(at: AppTest) -> list[dict]:
    """The data of the page's zoomable pictures, in order."""
    return [json.loads(element.proto.json) for element in at.get("bidi_component")
            if element.proto.component_name.endswith("zoomable_picture")]


def test_the_served_files_are_the_picture_and_the_exact_values():
    at = AppTest.from_string(PAGE, default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    [data] = zoomable_data(at)
    assert {k: v for k, v in data.items() if k not in ("picture", "values")} == {
        "height": 12, "width": 20, "title": "|error| FIRENET, paper's 5 x 5", "link": "image", "text_size": 20,
        "base": ""}
    assert data["picture"].endswith(".png") and data["values"].endswith(".bin")
    at.session_state["addresses"] = [data["picture"], data["values"]]
    at.run()  # the same files again: the page reads them back
    shown = json.loads(at.text[0].value)
    assert shown["served"][data["picture"]] == ["image/png", shown["picture"]]
    assert shown["served"][data["values"]] == ["application/octet-stream", shown["values"]]
    assert zoomable_data(at) == [data]  # the same addresses for the same picture


def test_values_are_float32_row_by_row_whatever_their_order_in_memory():
    values = np.arange(6, dtype=np.float64).reshape(2, 3).T  # Fortran order in memory
    np.testing.assert_array_equal(np.frombuffer(values_bytes(values), "<f4"), [0, 3, 1, 4, 2, 5])
    assert picture_mime(coloured_jpeg(values, (0.0, 5.0))) == "image/jpeg"
    assert picture_mime(coloured_png(values, (0.0, 5.0))) == "image/png"


def test_a_title_with_markup_travels_as_text():
    data = payload("/media/a.png", "/media/b.bin", (2, 2), '<img src=x onerror="alert(1)">', "image", 13)
    assert data["title"] == '<img src=x onerror="alert(1)">'  # the script sets it as textContent


@pytest.mark.parametrize(("call", "message"), [
    (lambda: picture_mime(b"GIF89a...."), "picture: not a PNG or JPEG file"),
    (lambda: values_bytes(np.zeros(4)), r"values: a 2-D array .* shape \(4,\)"),
    (lambda: values_bytes(np.zeros((0, 3))), r"values: a 2-D array .* shape \(0, 3\)"),
    (lambda: values_bytes(np.zeros((2, 2), complex)), "values: real numbers"),
    (lambda: payload("/a.png", "/b.bin", (2, 2), "t", "image", 2), "text_size: pixels from 6 to 96, got 2"),
    (lambda: payload("/a.png", "/b.bin", (2, 2), "t", "image", 13.5), "text_size: pixels from 6 to 96, got 13.5"),
    (lambda: payload("https://example.org/a.png", "/b.bin", (2, 2), "t", "image", 13),
     "picture: an address on the server"),
    (lambda: payload("/a.png", "javascript:x", (2, 2), "t", "image", 13), "values: an address on the server"),
    (lambda: payload("//example.org/a.png", "/b.bin", (2, 2), "t", "image", 13), "picture: an address on the server"),
])
def test_what_the_script_cannot_draw_is_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()
