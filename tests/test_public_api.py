import mg_tools
from mg_tools import errors, types


def test_public_api_is_sorted_and_importable():
    for module in (mg_tools, errors, types):
        assert list(module.__all__) == sorted(module.__all__)
        for name in module.__all__:
            assert hasattr(module, name), name


def test_every_error_class_has_a_docstring():
    for name in errors.__all__:
        obj = getattr(errors, name)
        if isinstance(obj, type):
            assert obj.__doc__ and obj.__doc__.strip(), name
