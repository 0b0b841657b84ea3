//! Every kernel compiled with NVRTC for every storage type, for sm_80 (no clusters: the
//! one-CTA-per-row kernels) and sm_90 (the cluster kernels with their inline PTX), to CUBIN, and
//! ptxas's resource report read back: no sm_90 kernel spills or keeps a stack frame, and on an H100 the
//! shared-memory kernel fits three CTAs per SM with the largest slice the launch plan gives it.
//! Needs libnvrtc only (no driver, no device): without it the test says so and passes.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, OnceLock};
use surprisal_cuda::{Cubin, DType, Error, KERNEL_NAMES, Plan, Tuning, compile_cubin, nvrtc_available, plan};

/// The kernels compiled for `dtype` and `sm_{major}{minor}`, once per test binary (the tests
/// below share them); a compilation error fails the calling test.
fn cubin(dtype: DType, major: i32, minor: i32) -> Cubin {
    type Compiled = HashMap<(DType, i32, i32), Cubin>;
    static CACHE: OnceLock<Mutex<Compiled>> = OnceLock::new();
    let mut cache = CACHE.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    cache
        .entry((dtype, major, minor))
        .or_insert_with(|| {
            compile_cubin(dtype, major, minor).unwrap_or_else(|e| panic!("sm_{major}{minor} {dtype}: {e}"))
        })
        .clone()
}

/// One kernel's line in ptxas's `-v` report.
#[derive(Debug, Default)]
struct Resources {
    name: String,
    registers: u32,
    stack: u32,
    spill_stores: u32,
    spill_loads: u32,
    static_smem: usize,
}

/// The numbers before each of `words` in `line` ("0 bytes stack frame, 0 bytes spill stores").
fn numbers_before(line: &str, words: &[&str]) -> Vec<u64> {
    words
        .iter()
        .map(|w| {
            let head = &line[..line.find(w).unwrap_or_else(|| panic!("no '{w}' in {line:?}"))];
            let last = head.split(|c: char| !c.is_ascii_digit()).rev().find(|t| !t.is_empty());
            last.and_then(|t| t.parse().ok()).unwrap_or_else(|| panic!("no number before '{w}' in {line:?}"))
        })
        .collect()
}

fn parse_report(log: &str) -> Vec<Resources> {
    let mut out: Vec<Resources> = Vec::new();
    for line in log.lines() {
        if let Some(rest) = line.split("Compiling entry function '").nth(1) {
            let name = rest.split('\'').next().unwrap_or_default().to_string();
            out.push(Resources { name, ..Resources::default() });
        } else if let Some(k) = out.last_mut() {
            if line.contains("bytes stack frame") {
                let v =
                    numbers_before(line, &["bytes stack frame", "bytes spill stores", "bytes spill loads"]);
                (k.stack, k.spill_stores, k.spill_loads) = (v[0] as u32, v[1] as u32, v[2] as u32);
            } else if line.contains("Used ") && line.contains("registers") {
                k.registers = numbers_before(line, &["registers"])[0] as u32;
                if line.contains("bytes smem") {
                    k.static_smem = numbers_before(line, &["bytes smem"])[0] as usize;
                }
            }
        }
    }
    out
}

// H100 (sm_90) limits: shared memory per SM and per block (opt-in), the 1 KiB the hardware
// reserves per CTA, registers per SM, and the register allocation unit (per warp).
const SMEM_PER_SM: usize = 228 << 10;
const SMEM_OPTIN: usize = 227 << 10;
const SMEM_RESERVED_PER_CTA: usize = 1 << 10;
const REGS_PER_SM: u32 = 64 << 10;
const REG_UNIT_PER_WARP: u32 = 256;

/// CTAs of `threads` threads with `regs` registers each and `smem` bytes of shared memory that
/// fit on one H100 SM at once.
fn ctas_per_sm(threads: u32, regs: u32, smem: usize) -> u32 {
    let per_warp = (regs * 32).div_ceil(REG_UNIT_PER_WARP) * REG_UNIT_PER_WARP;
    let by_regs = REGS_PER_SM / (per_warp * threads.div_ceil(32));
    let by_smem = (SMEM_PER_SM / (smem + SMEM_RESERVED_PER_CTA)) as u32;
    by_regs.min(by_smem)
}

/// Of the H100 plans for a spread of row lengths that `pick` accepts, the one with the most
/// shared memory (then threads): the hardest to fit on an SM.
fn largest_plan(dtype: DType, tuning: &Tuning, pick: impl Fn(&Plan) -> bool) -> Plan {
    [1usize, 8, 1000, 4096, 32000, 32001, 50257, 50304, 128256, 128257, 151936, 262144, 524288]
        .into_iter()
        .map(|v| plan(dtype, v, 9, SMEM_OPTIN, tuning))
        .filter(|p| pick(p))
        .max_by_key(|p| (p.smem_bytes, p.threads))
        .expect("some row length takes this kernel")
}

#[test]
fn every_kernel_compiles_for_every_dtype_and_arch_without_spills() {
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
            let cubin = cubin(dtype, major, minor);
            // An ELF image that names every kernel.
            assert_eq!(&cubin.image[..4], b"\x7fELF", "sm_{major}{minor} {dtype}");
            for name in KERNEL_NAMES {
                let found = cubin.image.windows(name.len()).any(|w| w == name.as_bytes());
                assert!(found, "sm_{major}{minor} {dtype}: no kernel {name}");
            }
            assert!(!cubin.log.contains("warning"), "sm_{major}{minor} {dtype}: {}", cubin.log);

            if !cubin.log.contains("ptxas info") {
                // Seen once: NVRTC 13.0 on an H200 machine returned an empty log for sm_90 (and the
                // report for sm_80). There the machine-code test still checks for local memory.
                println!(
                    "note: NVRTC {:?} returned no ptxas report for sm_{major}{minor} {dtype}; resources not checked here",
                    surprisal_cuda::nvrtc_version()
                );
                continue;
            }
            let report = parse_report(&cubin.log);
            let mut names: Vec<&str> = report.iter().map(|k| k.name.as_str()).collect();
            names.sort_unstable();
            let mut want = KERNEL_NAMES.to_vec();
            want.sort_unstable();
            assert_eq!(names, want, "sm_{major}{minor} {dtype}: ptxas report\n{}", cubin.log);
            for k in &report {
                println!(
                    "sm_{major}{minor} {dtype:>8} {:<16} {:>3} registers, {} B static smem, stack {} B, spills {}/{} B",
                    k.name, k.registers, k.static_smem, k.stack, k.spill_stores, k.spill_loads
                );
                // The H100 target: nothing in local memory. sm_80: at most a few registers' worth
                // (NVRTC 13.2's ptxas spills 4 bytes in the float32 two-read kernel; 13.0's none).
                let allowed = if major >= 9 { 0 } else { 16 };
                assert!(
                    k.stack <= allowed && k.spill_stores <= allowed && k.spill_loads <= allowed,
                    "sm_{major}{minor} {dtype} {}: stack frame {} B, spills {}/{} B (allowed {allowed})",
                    k.name,
                    k.stack,
                    k.spill_stores,
                    k.spill_loads
                );
                assert!(k.registers > 0 && k.registers <= 255, "{k:?}");
            }

            // The shared-memory kernel (launch bounds 256 threads, 3 CTAs per SM) with the
            // largest slice the default plan gives it on an H100: three CTAs fit on one SM.
            if major == 9 {
                let smem_kernel = report.iter().find(|k| k.name == "ce_rows_smem").expect("in the report");
                let tuning = Tuning::BUILT_IN;
                let largest = largest_plan(dtype, &tuning, |p| p.smem);
                let ctas = ctas_per_sm(
                    largest.threads,
                    smem_kernel.registers,
                    largest.smem_bytes + smem_kernel.static_smem,
                );
                assert!(
                    ctas >= 3,
                    "sm_90 {dtype}: ce_rows_smem fits {ctas} CTAs per SM ({} registers, {} + {} B smem)",
                    smem_kernel.registers,
                    largest.smem_bytes,
                    smem_kernel.static_smem
                );
                println!(
                    "sm_90 {dtype:>8} ce_rows_smem with a {} B slice, {} threads: {ctas} CTAs per H100 SM",
                    largest.smem_bytes, largest.threads
                );
                // The pipelined kernel (launch bounds 512 threads, one CTA per SM) with the most
                // shared memory the default plan gives it: it fits.
                let piped = report.iter().find(|k| k.name == "ce_rows_pipelined").expect("in the report");
                let largest = largest_plan(dtype, &Tuning { pipeline: true, ..tuning }, |p| p.pipelined);
                let ctas =
                    ctas_per_sm(largest.threads, piped.registers, largest.smem_bytes + piped.static_smem);
                assert!(
                    ctas >= 1 && largest.smem_bytes + piped.static_smem <= SMEM_OPTIN,
                    "sm_90 {dtype}: ce_rows_pipelined does not fit ({} registers, {} + {} B smem)",
                    piped.registers,
                    largest.smem_bytes,
                    piped.static_smem
                );
                println!(
                    "sm_90 {dtype:>8} ce_rows_pipelined with {} stages of {} B, {} threads: {ctas} CTA per H100 SM",
                    largest.stages,
                    largest.smem_bytes / largest.stages as usize,
                    largest.threads
                );
            }
            println!(
                "NVRTC sm_{major}{minor} {dtype}: ok, CUBIN {} bytes, {} kernels",
                cubin.image.len(),
                KERNEL_NAMES.len()
            );
        }
    }
}

#[test]
fn the_ptxas_report_parser_reads_each_field() {
    let log = "ptxas info    : 0 bytes gmem\n\
        ptxas info    : Compiling entry function 'ce_rows_smem' for 'sm_90'\n\
        ptxas info    : Function properties for ce_rows_smem\n\
        ptxas         .     8 bytes stack frame, 12 bytes spill stores, 16 bytes spill loads\n\
        ptxas info    : Used 72 registers, used 1 barriers, 864 bytes smem\n\
        ptxas info    : Compiling entry function 'reduce_sum' for 'sm_90'\n\
        ptxas         .     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads\n\
        ptxas info    : Used 19 registers, used 1 barriers\n";
    let r = parse_report(log);
    assert_eq!(r.len(), 2);
    assert_eq!(
        (
            r[0].name.as_str(),
            r[0].registers,
            r[0].stack,
            r[0].spill_stores,
            r[0].spill_loads,
            r[0].static_smem
        ),
        ("ce_rows_smem", 72, 8, 12, 16, 864)
    );
    assert_eq!((r[1].name.as_str(), r[1].registers, r[1].static_smem), ("reduce_sum", 19, 0));
    // 72 registers, 256 threads: 8 warps × 2304 = 18432 registers per CTA → 3 by registers;
    // 64 KiB + 864 B + 1 KiB per CTA → 3 by shared memory.
    assert_eq!(ctas_per_sm(256, 72, (64 << 10) + 864), 3);
    assert_eq!(ctas_per_sm(256, 128, 0), 2);
    assert_eq!(ctas_per_sm(256, 32, (100 << 10) + 1), 2);
}

/// nvdisasm from `$SURPRISAL_NVDISASM` or the path (the `nvidia-cuda-nvdisasm` wheel that `./test`
/// installs), or None.
fn nvdisasm() -> Option<std::path::PathBuf> {
    let cand = std::env::var_os("SURPRISAL_NVDISASM").map(std::path::PathBuf::from).or_else(|| {
        std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join("nvdisasm")).find(|p| p.is_file())
    })?;
    cand.is_file().then_some(cand)
}

/// Every kernel's instructions in a CUBIN, as opcode counts (`LDG.E.EF.128` → 4), by nvdisasm.
fn opcodes(tool: &std::path::Path, image: &[u8], tag: &str) -> BTreeMap<String, BTreeMap<String, usize>> {
    let path = std::env::temp_dir().join(format!("surprisal-{}-{tag}.cubin", std::process::id()));
    std::fs::write(&path, image).expect("write the CUBIN");
    let out = std::process::Command::new(tool).arg("-c").arg(&path).output().expect("run nvdisasm");
    let _ = std::fs::remove_file(&path);
    assert!(out.status.success(), "nvdisasm: {}", String::from_utf8_lossy(&out.stderr));
    parse_sass(&String::from_utf8_lossy(&out.stdout))
}

/// nvdisasm's listing → per function, opcode counts (a predicate such as `@!P0` is skipped).
fn parse_sass(text: &str) -> BTreeMap<String, BTreeMap<String, usize>> {
    let mut out: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if let Some(name) = line.strip_prefix(".text.").and_then(|r| r.strip_suffix(':')) {
            current = Some(name.to_string());
            continue;
        }
        let (Some(f), Some(end)) = (&current, line.find("*/")) else { continue };
        if !line.trim_start().starts_with("/*") {
            continue;
        }
        let mut words = line[end + 2..].split_whitespace();
        let mut op = words.next().unwrap_or_default();
        if op.starts_with('@') {
            op = words.next().unwrap_or_default();
        }
        if op.starts_with(|c: char| c.is_ascii_uppercase()) {
            let mut key = op.trim_end_matches(';').to_string();
            // A dependency barrier is kept with its operands (which scoreboard, how many left).
            if key.starts_with("DEPBAR.") {
                let rest: Vec<&str> = words.collect();
                key = format!("{key} {}", rest.join(" ").trim_end_matches(';').trim_end());
            }
            *out.entry(f.clone()).or_default().entry(key).or_default() += 1;
        }
    }
    out
}

fn count(ops: &BTreeMap<String, usize>, pred: impl Fn(&str) -> bool) -> usize {
    ops.iter().filter(|(k, _)| pred(k)).map(|(_, n)| n).sum()
}

/// The machine code says what the design says: on sm_90 the shared-memory kernel's only 16-byte
/// global loads are pass 1's unrolled loads (UNROLL of them, streaming: the row is read once),
/// the two-read kernel has more (its second read); both write the gradient with 16-byte streaming
/// stores, use the hardware exp2 and touch no local memory; its cp.async copy is waited for in
/// parts; the one-read and pipelined kernels carry the stored-exponential pass's NaN-propagating
/// maximum (packed for the 16-bit types).
#[test]
fn the_shared_memory_kernel_reads_each_row_once_in_its_machine_code() {
    if !cfg!(feature = "cuda") || !nvrtc_available() {
        println!("skipped: no NVRTC library or built without the `cuda` feature");
        return;
    }
    let Some(tool) = nvdisasm() else {
        println!("skipped: no nvdisasm ($SURPRISAL_NVDISASM or the path)");
        return;
    };
    let unroll: usize = surprisal_cuda::KERNEL_SOURCES[1]
        .lines()
        .find_map(|l| l.strip_prefix("#define UNROLL "))
        .and_then(|r| r.split_whitespace().next()?.parse().ok())
        .expect("#define UNROLL in cross_entropy.cu");
    // 16-byte loads through registers (LDGSTS, cp.async, goes to shared memory directly).
    let wide_load = |k: &str| k.starts_with("LDG") && !k.starts_with("LDGSTS") && k.ends_with(".128");
    for dtype in DType::ALL {
        let cubin = cubin(dtype, 9, 0);
        let sass = opcodes(&tool, &cubin.image, dtype.name());
        let smem = &sass["ce_rows_smem"];
        let online = &sass["ce_rows_online"];
        println!(
            "sm_90 {dtype:>8}: 16-byte global loads {} (ce_rows_smem) / {} (ce_rows_online), 16-byte streaming stores {} / {}",
            count(smem, wide_load),
            count(online, wide_load),
            count(smem, |k| k == "STG.E.EF.128"),
            count(online, |k| k == "STG.E.EF.128"),
        );
        assert_eq!(count(smem, wide_load), unroll, "{dtype} ce_rows_smem: {smem:?}");
        assert_eq!(count(smem, |k| k == "LDG.E.EF.128"), unroll, "{dtype}: pass 1 streams: {smem:?}");
        assert!(count(online, wide_load) >= 2 * unroll, "{dtype} ce_rows_online: {online:?}");
        // The cp.async variant of the one-read kernel: one 16-byte copy to shared memory per pack
        // in each of its two instances (with and without stored exponentials), closed in commit
        // groups, and waits that leave 1, 2 or 3 groups in flight (pass 1 takes each group as it
        // lands).
        assert_eq!(count(smem, |k| k.starts_with("LDGSTS") && k.ends_with(".128")), 2, "{dtype}: {smem:?}");
        assert!(smem.contains_key("LDGDEPBAR"), "{dtype}: no commit group: {smem:?}");
        for left in 1..=3 {
            let wait = format!("DEPBAR.LE SB0, 0x{left}");
            assert!(smem.contains_key(&wait), "{dtype}: no {wait}: {smem:?}");
        }
        // The pipelined kernel reads rows only through the bulk copy.
        let piped = &sass["ce_rows_pipelined"];
        let bulk: Vec<&String> = piped.keys().filter(|k| k.contains("BLK")).collect();
        println!(
            "sm_90 {dtype:>8}: ce_rows_pipelined bulk copies {bulk:?}, 16-byte global loads {}",
            count(piped, wide_load)
        );
        assert!(!bulk.is_empty(), "{dtype} ce_rows_pipelined: no bulk copy: {piped:?}");
        assert_eq!(count(piped, wide_load), 0, "{dtype} ce_rows_pipelined: {piped:?}");
        // Stored exponentials (the one-read and pipelined kernels): pass 1a's NaN-propagating
        // maximum, packed for the 16-bit types.
        for (name, ops) in [("ce_rows_smem", smem), ("ce_rows_pipelined", piped)] {
            let nan_max = count(ops, |k| k.contains("MNMX") && k.ends_with(".NAN"));
            assert!(nan_max > 0, "{dtype} {name}: no NaN-propagating maximum: {ops:?}");
            if dtype != DType::F32 {
                assert!(
                    count(ops, |k| k.starts_with("VHMNMX")) > 0,
                    "{dtype} {name}: no packed maximum: {ops:?}"
                );
            }
        }
        for (name, ops) in [("ce_rows_smem", smem), ("ce_rows_online", online)] {
            let wide_stores = count(ops, |k| k.starts_with("STG") && k.ends_with(".128"));
            assert!(wide_stores > 0, "{dtype} {name}: no 16-byte stores: {ops:?}");
            assert_eq!(count(ops, |k| k == "STG.E.EF.128"), wide_stores, "{dtype} {name}: {ops:?}");
            assert!(count(ops, |k| k == "MUFU.EX2") > 0, "{dtype} {name}: no hardware exp2: {ops:?}");
        }
        for (name, ops) in &sass {
            let local = count(ops, |k| k.starts_with("LDL") || k.starts_with("STL"));
            assert_eq!(local, 0, "{dtype} {name}: local memory: {ops:?}");
        }
    }
}

#[test]
fn the_sass_parser_reads_functions_and_predicated_opcodes() {
    let text = "\t.text.ce_rows_smem,\"ax\",@progbits\n\
        .text.ce_rows_smem:\n\
        \x20       /*0000*/                   LDC R1, c[0x0][0x28] ;\n\
        \x20       /*0b00*/                   LDG.E.EF.128 R8, desc[UR18][R8.64] ;\n\
        \x20       /*1b40*/               @!P0 MUFU.EX2 R32, R32 ;\n\
        \x20       /*1b48*/                   DEPBAR.LE SB0, 0x3 ;\n\
        \x20       /*1b50*/                   EXIT ;\n\
        .text.reduce_sum:\n\
        \x20       /*0000*/               @P1 LDG.E.EF.128 R4, desc[UR4][R2.64] ;\n";
    let s = parse_sass(text);
    assert_eq!(s.len(), 2);
    let k = &s["ce_rows_smem"];
    assert_eq!((k["LDC"], k["LDG.E.EF.128"], k["MUFU.EX2"], k["EXIT"]), (1, 1, 1, 1));
    assert_eq!(k["DEPBAR.LE SB0, 0x3"], 1);
    assert_eq!(s["reduce_sum"]["LDG.E.EF.128"], 1);
    assert_eq!(count(k, |o| o.starts_with("LDG")), 1);
}
