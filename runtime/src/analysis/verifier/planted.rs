//! A planted unsound rule, for tests proving that the JIT's audit mode and
//! the differential harness find a wrong proof (`difftest/tests/
//! planted_verifier_rule.rs`). The switch exists only with the
//! `planted-bugs` cargo feature; without it [`signed_as_unsigned`] is a
//! constant `false` and no build can turn the rule on.
//!
//! The rule: a signed compare `x s< y` (or `s<=`) also narrows `x`'s
//! unsigned bound, as if the compare were unsigned. A negative `x` passes
//! the signed test while being huge unsigned, so an access `p + x` is then
//! "proven" in bounds when it is not.

#[cfg(feature = "planted-bugs")]
static SIGNED_AS_UNSIGNED: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// Turns the planted rule on or off for the whole process (tests only).
#[cfg(feature = "planted-bugs")]
pub fn plant_signed_as_unsigned(on: bool) {
    SIGNED_AS_UNSIGNED.store(on, std::sync::atomic::Ordering::SeqCst);
}

/// Whether the planted rule is on.
pub(super) fn signed_as_unsigned() -> bool {
    #[cfg(feature = "planted-bugs")]
    {
        SIGNED_AS_UNSIGNED.load(std::sync::atomic::Ordering::SeqCst)
    }
    #[cfg(not(feature = "planted-bugs"))]
    {
        false
    }
}
