//! The C examples of this crate's README.md and of the repository's top README.md compile
//! against the header, as C11 and as C++11, with every warning an error. (CI also links and
//! runs the top README's program against an installed library: scripts/capi-install-check.sh.)

mod support;

use support::{compile, crate_dir, Lang};

#[test]
fn readme_c_example_compiles() {
    let readme = std::fs::read_to_string(crate_dir().join("README.md")).unwrap();
    let start = readme.find("```c\n").expect("README.md has a ```c block") + "```c\n".len();
    let len = readme[start..]
        .find("```")
        .expect("the ```c block is closed");
    let source = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("readme_example.c");
    std::fs::write(&source, &readme[start..start + len]).unwrap();
    compile(Lang::C11, &source);
    compile(Lang::Cxx11, &source);
}

#[test]
fn top_readme_c_program_compiles() {
    let readme = std::fs::read_to_string(crate_dir().join("../../README.md")).unwrap();
    let marker = "<!-- capi-install-check: app.c ";
    let marked = readme.find(marker).expect("README.md marks its C program") + marker.len();
    let start = readme[marked..]
        .find("```c\n")
        .map(|at| marked + at + "```c\n".len())
        .expect("a ```c block follows the marker");
    let len = readme[start..]
        .find("```")
        .expect("the ```c block is closed");
    let source = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("top_readme_app.c");
    std::fs::write(&source, &readme[start..start + len]).unwrap();
    compile(Lang::C11, &source);
    compile(Lang::Cxx11, &source);
}
