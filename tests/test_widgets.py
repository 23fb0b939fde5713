"""A setting's widget drawn from its spec (``explorer.widgets``): what a drawing may
override is checked before anything is drawn."""

from __future__ import annotations

import pytest

from explorer import sources
from explorer import specs as K
from explorer.widgets import widget

SPECS = K.all_specs(sources.pattern_registry())


def test_an_override_other_than_label_or_help_is_refused():
    with pytest.raises(ValueError, match=r"overrides may be label or help, got \['colour'\]"):
        widget("cmap", SPECS, colour="red")
