//! placeholder (lab-go writes this module).
