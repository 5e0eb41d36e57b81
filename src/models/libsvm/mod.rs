//! A port of libsvm as scikit-learn 1.9.1 vendors it (`sklearn/svm/src/libsvm/svm.cpp`,
//! dense rows): C-SVC and ε-SVR, step for step, so support vectors, dual coefficients,
//! intercepts and iteration counts equal `SVC`'s and `SVR`'s.

mod cache;
mod exp;
pub mod kernel;
mod qmatrix;
mod solver;
mod train;
mod wss;

pub use kernel::{FeatureMajor, KernelFn, KernelStore};
pub use solver::Settings;
pub use train::{train_svc, train_svr, Params, Rows, Sample, Store};

#[cfg(test)]
mod tests;
