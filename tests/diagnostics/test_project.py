"""Where a file sits in its project (diagnostics/project.py): package chain, dotted name,
`__package__`, import roots, and the project root that counts only for files beneath it."""

from __future__ import annotations

from pathlib import Path

from deepeval_lsp.diagnostics.project import (
    absolute_name,
    default_project_root,
    locate,
    read_roots,
    too_wide,
)


def _tree(root: Path, *files: str) -> None:
    for f in files:
        p = root / f
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("")


def test_a_module_of_a_nested_package(tmp_path: Path) -> None:
    _tree(tmp_path, "src/pkg/__init__.py", "src/pkg/sub/__init__.py", "src/pkg/sub/mod.py")
    site = locate(tmp_path / "src/pkg/sub/mod.py", str(tmp_path))
    assert site.module == "pkg.sub.mod"
    assert site.package == "pkg.sub"
    assert site.package_root == (tmp_path / "src").resolve()
    assert site.import_roots == (
        (tmp_path / "src").resolve(),
        tmp_path.resolve(),
        (tmp_path / "src/pkg/sub").resolve(),
    )


def test_a_packages_init_is_the_package_itself(tmp_path: Path) -> None:
    _tree(tmp_path, "pkg/__init__.py", "pkg/sub/__init__.py")
    site = locate(tmp_path / "pkg/sub/__init__.py")
    assert (site.module, site.package) == ("pkg.sub", "pkg.sub")


def test_a_plain_folder_is_no_package(tmp_path: Path) -> None:
    _tree(tmp_path, "scripts/train.py", "scripts/helpers.py")
    site = locate(tmp_path / "scripts/train.py", str(tmp_path))
    assert (site.module, site.package) == ("train", "")
    assert site.import_roots == ((tmp_path / "scripts").resolve(), tmp_path.resolve())


def test_a_folder_that_cannot_be_imported_ends_the_chain(tmp_path: Path) -> None:
    _tree(tmp_path, "01-code/__init__.py", "01-code/pkg/__init__.py", "01-code/pkg/m.py")
    site = locate(tmp_path / "01-code/pkg/m.py")
    assert site.module == "pkg.m" and site.package_root == (tmp_path / "01-code").resolve()


def test_the_project_root_counts_only_for_files_beneath_it(tmp_path: Path) -> None:
    _tree(tmp_path, "a/x.py", "b/y.py")
    site = locate(tmp_path / "a/x.py", str(tmp_path / "b"))
    assert site.import_roots == ((tmp_path / "a").resolve(),)
    assert read_roots([tmp_path / "a/x.py", tmp_path / "b/y.py"], str(tmp_path / "b")) == sorted(
        [str((tmp_path / "a").resolve()), str((tmp_path / "b").resolve())]
    )


def test_a_buffer_not_yet_written_sits_in_its_folder(tmp_path: Path) -> None:
    _tree(tmp_path, "pkg/__init__.py")
    site = locate(tmp_path / "pkg/new.py", str(tmp_path))
    assert (site.module, site.package) == ("pkg.new", "pkg")
    site = locate(tmp_path / "no-folder/untitled.py", str(tmp_path))
    assert site.package == "" and site.import_roots == (tmp_path.resolve(),)


def test_relative_names(tmp_path: Path) -> None:
    _tree(tmp_path, "pkg/__init__.py", "pkg/sub/__init__.py", "pkg/sub/mod.py", "top.py")
    site = locate(tmp_path / "pkg/sub/mod.py")
    assert absolute_name(site, 1, "parts") == "pkg.sub.parts"
    assert absolute_name(site, 2, "utils.misc") == "pkg.utils.misc"
    assert absolute_name(site, 1, None) == "pkg.sub"
    assert absolute_name(site, 3, "x") is None  # above the top-level package
    assert absolute_name(locate(tmp_path / "top.py"), 1, "x") is None
    assert absolute_name(site, 0, "torch.nn") == "torch.nn"


def test_too_wide_folders_are_no_default_root(tmp_path: Path) -> None:
    assert too_wide("/") and default_project_root("/") is None
    assert default_project_root(str(tmp_path)) == str(tmp_path.resolve())
