//! The C example in README.md compiles against the header, as C11 and as C++11, with every
//! warning an error.

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
