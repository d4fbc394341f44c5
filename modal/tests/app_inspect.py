"""Reads what a modal.App defines (functions, GPU, image, volumes, scaling, timeouts) without reaching Modal.

modal 1.6 builds each Function's definition inside a loader closure that only runs at deploy time; the values the
decorators received are the closure's free variables, and the image's Dockerfile comes from its dockerfile_function.
"""

from modal._utils.async_utils import synchronizer


def functions_of(app):
    """Name -> the implementation object of every Function registered on the app (classes appear as 'Cls.*')."""
    return dict(synchronizer._translate_in(app)._local_state.functions)


def definition_of(function_impl):
    """The decorator arguments a Function was created with (min_containers, timeout, gpu, secrets, ...)."""
    load = function_impl._load
    return dict(zip(load.__code__.co_freevars, (cell.cell_contents for cell in load.__closure__)))


def dockerfile_commands(image):
    """Every Dockerfile command of an image and its bases, base first."""
    impl = synchronizer._translate_in(image) if not hasattr(image, "_load") else image
    scope = dict(zip(impl._load.__code__.co_freevars, (cell.cell_contents for cell in impl._load.__closure__)))
    commands = []
    if "base_image" in scope:  # a lazy add_local_file layer: its base holds the Dockerfile
        return dockerfile_commands(scope["base_image"])
    for base in (scope.get("base_images") or {}).values():
        commands += dockerfile_commands(base)
    build = scope.get("dockerfile_function")
    if build is not None:
        commands += list(build("2025.06").commands)
    return commands


def local_files_of(image):
    """(local path, remote path) of every add_local_file layer on top of an image."""
    impl = synchronizer._translate_in(image) if not hasattr(image, "_load") else image
    scope = dict(zip(impl._load.__code__.co_freevars, (cell.cell_contents for cell in impl._load.__closure__)))
    if "base_image" not in scope:
        return []
    entries = [(str(entry.local_file), str(entry.remote_path)) for entry in scope["mount"]._entries]
    return local_files_of(scope["base_image"]) + entries
