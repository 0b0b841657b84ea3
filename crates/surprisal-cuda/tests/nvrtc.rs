//! Every kernel compiled with NVRTC for every storage type, for sm_80 (no clusters: the
//! one-CTA-per-row kernels) and sm_90 (the cluster kernels with their inline PTX), to CUBIN.
//! Needs libnvrtc only (no driver, no device): without it the test says so and passes.

use surprisal_cuda::{DType, Error, KERNEL_NAMES, compile_cubin, nvrtc_available};

#[test]
fn every_kernel_compiles_for_every_dtype_and_arch() {
    if !cfg!(feature = "cuda") {
        assert_eq!(compile_cubin(DType::F32, 9, 0).unwrap_err(), Error::NotBuilt);
        println!("skipped: built without the `cuda` feature");
        return;
    }
    if !nvrtc_available() {
        println!("skipped: no NVRTC library");
        return;
    }
    for (major, minor) in [(8, 0), (9, 0)] {
        for dtype in DType::ALL {
            let cubin = match compile_cubin(dtype, major, minor) {
                Ok(c) => c,
                Err(e) => panic!("sm_{major}{minor} {dtype}: {e}"),
            };
            // An ELF image that names every kernel.
            assert_eq!(&cubin.image[..4], b"\x7fELF", "sm_{major}{minor} {dtype}");
            for name in KERNEL_NAMES {
                let found = cubin.image.windows(name.len()).any(|w| w == name.as_bytes());
                assert!(found, "sm_{major}{minor} {dtype}: no kernel {name}");
            }
            assert!(!cubin.log.contains("warning"), "sm_{major}{minor} {dtype}: {}", cubin.log);
            println!(
                "NVRTC sm_{major}{minor} {dtype}: ok, CUBIN {} bytes, {} kernels",
                cubin.image.len(),
                KERNEL_NAMES.len()
            );
        }
    }
}
