//! Tesseract through its C API (`tesseract/capi.h`), loaded at run time.
//!
//! Why loaded and not linked: the Lambda binaries are cross-built for arm64 with zig, and
//! linking a C++ library would put arm64 builds of Tesseract, Leptonica and their
//! dependencies into that build. Loaded, the binary builds as before, finds the library
//! where the system (or the Lambda layer, `/opt/lib`) puts it, and a machine without it
//! still reads every page that has a text layer. The Rust bindings on crates.io
//! (`tesseract-sys`, `leptess`) link at build time, so they could not do this.
//!
//! Only the stable C API is used: create, init, set image (a Leptonica `PIX`, see
//! [`crate::leptonica`]) and resolution, recognize, the TSV result (one row per word with
//! its box and confidence), end, delete.

use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use libloading::Library;

use crate::Error;
use crate::leptonica::{Image, Leptonica, Pix};

/// Library names tried in order when no path is given (Debian and Amazon Linux name the
/// 5.x library `libtesseract.so.5`).
const LIBRARY_NAMES: [&str; 2] = ["libtesseract.so.5", "libtesseract.so"];

type Create = unsafe extern "C" fn() -> *mut c_void;
type Delete = unsafe extern "C" fn(*mut c_void);
type End = unsafe extern "C" fn(*mut c_void);
type Init3 = unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char) -> c_int;
type SetImage2 = unsafe extern "C" fn(*mut c_void, *mut Pix);
type SetResolution = unsafe extern "C" fn(*mut c_void, c_int);
type SetVariable = unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char) -> c_int;
type Recognize = unsafe extern "C" fn(*mut c_void, *mut c_void) -> c_int;
type TsvText = unsafe extern "C" fn(*mut c_void, c_int) -> *mut c_char;
type DeleteText = unsafe extern "C" fn(*mut c_char);
type Version = unsafe extern "C" fn() -> *const c_char;
type OmpSetMaxActiveLevels = unsafe extern "C" fn(c_int);
type MonitorCreate = unsafe extern "C" fn() -> *mut c_void;
type MonitorDelete = unsafe extern "C" fn(*mut c_void);
type MonitorSetDeadline = unsafe extern "C" fn(*mut c_void, c_int);

/// Tesseract's `thresholding_method`: 2 is Sauvola's local threshold. The default, Otsu's
/// one threshold for the page, splits the paper's own grain when a page is almost all
/// paper: a one-line scan with sensor noise became millions of specks and took over two
/// minutes (Sauvola: 0.8 s, the line read right). See docs/ocr.md.
const SAUVOLA: &str = "2";

/// How Tesseract finds the text on a page (its `tessedit_pageseg_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Its automatic page layout (3): columns, blocks and table cells found first. What
    /// the `tesseract` command and Presidio's OCR use. The C API's own default is one
    /// uniform block: on a statement with a large letterhead beside small print and
    /// values in ruled cells, whole rows were never read. See docs/ocr.md.
    Automatic,
    /// The page as one uniform block of text (6). Where the automatic layout finds no
    /// text at all (a single long line a few degrees askew, taken for a picture), this
    /// still reads it.
    SingleBlock,
}

impl Layout {
    fn mode(self) -> &'static str {
        match self {
            Layout::Automatic => "3",
            Layout::SingleBlock => "6",
        }
    }
}

/// The loaded library and the functions taken from it.
pub struct Library5 {
    // Kept alive for as long as the function pointers below are used.
    _library: Library,
    create: Create,
    delete: Delete,
    end: End,
    init3: Init3,
    set_image: SetImage2,
    set_resolution: SetResolution,
    set_variable: SetVariable,
    recognize: Recognize,
    tsv_text: TsvText,
    delete_text: DeleteText,
    monitor_create: MonitorCreate,
    monitor_delete: MonitorDelete,
    monitor_set_deadline: MonitorSetDeadline,
    pub leptonica: Leptonica,
    pub version: String,
}

impl Library5 {
    /// Loads `path`, or the system's library by its usual names.
    pub fn load(path: Option<&Path>) -> Result<Library5, Error> {
        let library = match path {
            // SAFETY: loading runs the library's initialisers; Tesseract's only set up its
            // own statics.
            Some(p) => unsafe { Library::new(p) }.map_err(|e| Error::Library(e.to_string()))?,
            None => {
                let mut last = String::new();
                let mut found = None;
                for name in LIBRARY_NAMES {
                    // SAFETY: as above.
                    match unsafe { Library::new(name) } {
                        Ok(l) => {
                            found = Some(l);
                            break;
                        }
                        Err(e) => last = e.to_string(),
                    }
                }
                found.ok_or(Error::Library(last))?
            }
        };
        // SAFETY: each symbol is looked up by its C API name and given the signature
        // `tesseract/capi.h` declares for it (Tesseract 4 and 5 share them).
        unsafe {
            let version: Version = *library
                .get::<Version>(b"TessVersion\0")
                .map_err(|e| Error::Library(e.to_string()))?;
            let version = CStr::from_ptr(version()).to_string_lossy().into_owned();
            // One thread per page. Debian's Tesseract is built with OpenMP, whose worker
            // threads spin while they wait: on two cores a page took 16 s instead of 1.8 s
            // (9 s of it system time), worse still beside other documents being read or on
            // a fraction of a Lambda vCPU. Its parallel loops ask for their thread count
            // explicitly, so only making every parallel region inactive (no active levels)
            // keeps them on the calling thread. The setting is libgomp's, process-wide; a
            // build without OpenMP has no such symbol.
            if let Ok(no_nesting) =
                library.get::<OmpSetMaxActiveLevels>(b"omp_set_max_active_levels\0")
            {
                no_nesting(0);
            }
            let owner = format!("Tesseract {version}");
            Ok(Library5 {
                create: symbol(&library, b"TessBaseAPICreate\0", &owner)?,
                delete: symbol(&library, b"TessBaseAPIDelete\0", &owner)?,
                end: symbol(&library, b"TessBaseAPIEnd\0", &owner)?,
                init3: symbol(&library, b"TessBaseAPIInit3\0", &owner)?,
                set_image: symbol(&library, b"TessBaseAPISetImage2\0", &owner)?,
                set_resolution: symbol(&library, b"TessBaseAPISetSourceResolution\0", &owner)?,
                set_variable: symbol(&library, b"TessBaseAPISetVariable\0", &owner)?,
                recognize: symbol(&library, b"TessBaseAPIRecognize\0", &owner)?,
                tsv_text: symbol(&library, b"TessBaseAPIGetTsvText\0", &owner)?,
                delete_text: symbol(&library, b"TessDeleteText\0", &owner)?,
                monitor_create: symbol(&library, b"TessMonitorCreate\0", &owner)?,
                monitor_delete: symbol(&library, b"TessMonitorDelete\0", &owner)?,
                monitor_set_deadline: symbol(&library, b"TessMonitorSetDeadlineMSecs\0", &owner)?,
                leptonica: Leptonica::load(&library)?,
                version,
                _library: library,
            })
        }
    }
}

/// The function `name` of `library`, or an error naming the library it was looked for in.
///
/// # Safety
/// `T` must be the function's own signature.
pub(crate) unsafe fn symbol<T: Copy>(
    library: &Library,
    name: &[u8],
    owner: &str,
) -> Result<T, Error> {
    // SAFETY: the caller vouches for `T`.
    unsafe { library.get::<T>(name) }
        .map(|f| *f)
        .map_err(|e| Error::Library(format!("{e} ({owner})")))
}

/// One Tesseract engine with its languages loaded (tens of MB; not shareable between
/// threads, so the [`crate::Ocr`] keeps a pool).
pub struct Engine {
    library: Arc<Library5>,
    handle: *mut c_void,
}

// SAFETY: a TessBaseAPI may move between threads; it is used by one at a time (`&mut`).
unsafe impl Send for Engine {}

impl Engine {
    /// `languages`: Tesseract's `eng`, `eng+fra`, …; `data`: the `tessdata` folder (else
    /// `TESSDATA_PREFIX` or the library's built-in path).
    pub fn new(
        library: Arc<Library5>,
        data: Option<&Path>,
        languages: &str,
    ) -> Result<Self, Error> {
        let languages_c =
            CString::new(languages).map_err(|_| Error::Languages(languages.to_owned()))?;
        let data_c = match data {
            Some(d) => Some(
                CString::new(d.to_string_lossy().as_bytes())
                    .map_err(|_| Error::Data(d.display().to_string()))?,
            ),
            None => None,
        };
        // SAFETY: `create` returns a new handle or null; null is checked.
        let handle = unsafe { (library.create)() };
        if handle.is_null() {
            return Err(Error::Library("TessBaseAPICreate returned nothing".into()));
        }
        let init3 = library.init3;
        let engine = Engine { library, handle };
        let data_ptr = data_c.as_ref().map_or(std::ptr::null(), |d| d.as_ptr());
        // SAFETY: the handle is live; both strings are NUL-terminated and outlive the call.
        let rc = unsafe { init3(handle, data_ptr, languages_c.as_ptr()) };
        if rc != 0 {
            return Err(Error::Languages(format!(
                "{languages} (no traineddata for it in {})",
                data.map_or_else(
                    || "TESSDATA_PREFIX or the library's default folder".to_owned(),
                    |d| d.display().to_string()
                )
            )));
        }
        // Tesseract's diagnostics ("Estimating resolution…") would go to stderr, per page.
        engine.set("debug_file", "/dev/null");
        engine.set("thresholding_method", SAUVOLA);
        Ok(engine)
    }

    fn set(&self, name: &str, value: &str) {
        if let (Ok(n), Ok(v)) = (CString::new(name), CString::new(value)) {
            // SAFETY: live handle, NUL-terminated strings that outlive the call.
            unsafe { (self.library.set_variable)(self.handle, n.as_ptr(), v.as_ptr()) };
        }
    }

    /// Reads `image`, scanned at `dpi`, and answers Tesseract's TSV: one row per block,
    /// paragraph, line and word. Tesseract stops recognising words after `budget` (its
    /// own deadline, checked between words); then the page is [`Error::TimeBudget`].
    pub fn read(
        &mut self,
        image: &Image<'_>,
        dpi: u32,
        layout: Layout,
        budget: Duration,
    ) -> Result<String, Error> {
        self.set("tessedit_pageseg_mode", layout.mode());
        let started = Instant::now();
        let monitor = Monitor::new(&self.library, budget)?;
        // SAFETY: live handle; Tesseract takes its own counted reference to the live
        // image; the monitor lives until the end of this function.
        unsafe {
            (self.library.set_image)(self.handle, image.pix());
            (self.library.set_resolution)(self.handle, dpi as c_int);
            let failed = (self.library.recognize)(self.handle, monitor.0) != 0;
            if started.elapsed() >= budget {
                return Err(Error::TimeBudget);
            }
            if failed {
                return Err(Error::Unreadable(
                    "Tesseract could not recognise the page".into(),
                ));
            }
            let text = (self.library.tsv_text)(self.handle, 0);
            if text.is_null() {
                return Err(Error::Unreadable("Tesseract returned no result".into()));
            }
            let tsv = CStr::from_ptr(text).to_string_lossy().into_owned();
            (self.library.delete_text)(text);
            Ok(tsv)
        }
    }
}

/// Tesseract's progress monitor, here only for its deadline.
struct Monitor<'a>(*mut c_void, &'a Library5);

impl<'a> Monitor<'a> {
    fn new(library: &'a Library5, budget: Duration) -> Result<Self, Error> {
        // SAFETY: `TessMonitorCreate` returns a new monitor or null; null is checked.
        let handle = unsafe { (library.monitor_create)() };
        if handle.is_null() {
            return Err(Error::Library("TessMonitorCreate returned nothing".into()));
        }
        let ms = c_int::try_from(budget.as_millis())
            .unwrap_or(c_int::MAX)
            .max(1);
        // SAFETY: live monitor; the deadline counts from now.
        unsafe { (library.monitor_set_deadline)(handle, ms) };
        Ok(Monitor(handle, library))
    }
}

impl Drop for Monitor<'_> {
    fn drop(&mut self) {
        // SAFETY: the monitor is live, no longer used by Tesseract, and dropped once.
        unsafe { (self.1.monitor_delete)(self.0) }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        // SAFETY: the handle is live and dropped once; End frees the languages' data.
        unsafe {
            (self.library.end)(self.handle);
            (self.library.delete)(self.handle);
        }
    }
}
