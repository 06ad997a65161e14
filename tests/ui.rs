//! Compile tests of `#[logged_model]`: what compiles, and the message of
//! every compile error, each with its committed `.stderr` snapshot.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
