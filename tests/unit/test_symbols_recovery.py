"""Outline recovery from code the grammars choke on, and the definitions ctags lists.

Each case is a pattern that used to lose symbols: macro-wrapped C/C++ headers, newer TypeScript
syntax, ambient namespaces, class expressions, IIFE/UMD wrappers, interface and trait members.
"""

from __future__ import annotations

from mira_jupyter.tools.symbols import analyze


def names(source: str, language: str) -> list[str]:
    return [s.qualname for s in analyze(source.encode(), language).symbols]


GLIB_HEADER = """\
#include <glib-object.h>
G_BEGIN_DECLS
typedef struct _GAppInfo GAppInfo;
typedef void (*GAppCallback) (GAppInfo *info, gpointer data);
GLIB_AVAILABLE_IN_ALL
GType g_app_info_get_type (void) G_GNUC_CONST;
GLIB_AVAILABLE_IN_2_36
gboolean g_app_info_launch (GAppInfo *appinfo, GList *files, GError **error);
G_END_DECLS
"""


def test_macro_wrapped_c_header_keeps_its_prototypes() -> None:
    found = names(GLIB_HEADER, "c")
    assert {"g_app_info_get_type", "g_app_info_launch", "GAppCallback", "GAppInfo"} <= set(found)


FMT_HEADER = """\
#include "base.h"
FMT_BEGIN_NAMESPACE
namespace detail {
template <typename T> const T& unwrap(const T& v) { return v; }
class FMT_API format_error {
 public:
  using char_type = char;
  typedef int size_type;
  FMT_CONSTEXPR auto size() const FMT_NOEXCEPT -> size_type { return 0; }
  int count() const BOOST_ASIO_NOEXCEPT
  {
    return 1;
  }
};
}  // namespace detail
FMT_END_NAMESPACE
"""


def test_macro_wrapped_cpp_header_keeps_members_and_reference_returns() -> None:
    analysis = analyze(FMT_HEADER.encode(), "cpp")
    found = {s.qualname for s in analysis.symbols}
    assert {
        "detail.unwrap",
        "detail.format_error",
        "detail.format_error.char_type",
        "detail.format_error.size_type",
        "detail.format_error.size",
        "detail.format_error.count",
    } <= found


def test_cpp_preprocessor_inside_a_declaration() -> None:
    source = """\
namespace asio {
template <typename T>
struct associated_allocator
#if !defined(GENERATING_DOCUMENTATION)
  : detail::impl<T>
#endif
{
  static T get(const T& t) { return t; }
};
}
"""
    assert {"asio.associated_allocator", "asio.associated_allocator.get"} <= set(names(source, "cpp"))


EFFECT_TS = """\
export interface Effect<out A, in out E = never> extends Pipeable {
  readonly _A: A
  pipe(): Effect<A, E>
}
export declare namespace Effect {
  interface Variance<out A> {
    readonly _A: Covariant<A>
    map<B>(f: (a: A) => B): Variance<B>
  }
  type Success<T> = T extends Effect<infer A, any> ? A : never
  function make(): void
}
export const makeBy: {
  <A>(n: number, f: (i: number) => A): Array<A>
  /** doc */
  <A>(f: (i: number) => A): (n: number) => Array<A>
} = dual(2, (n: number, f: any) => f(n))
export function fromEvent(target: string): void
export function fromEvent(target: string, n: number): void
export function fromEvent(target: string, n?: number): void {}
export const last = 1
"""


def test_typescript_variance_namespaces_interfaces_and_overloads() -> None:
    analysis = analyze(EFFECT_TS.encode(), "typescript")
    found = [s.compact() for s in analysis.symbols]
    assert "1-4 interface Effect" in found and "3 method Effect.pipe" in found
    assert "5-12 namespace Effect" in found
    assert "6-9 interface Effect.Variance" in found
    assert "8 method Effect.Variance.map" in found
    assert "10 type Effect.Success" in found and "11 function Effect.make" in found
    # overload signatures and their implementation are one symbol spanning them
    assert "18-20 function fromEvent" in found
    assert not analysis.parse_errors  # the repairs leave a clean parse


WEBPACK_JS = """\
"use strict";
const { SyncHook } = require("tapable");
module.exports = class MultiCompiler {
  constructor(compilers) { this.compilers = compilers; }
  run(callback) {}
  get options() { return 1; }
};
MultiCompiler.Template = class MultiCompilerTemplate {
  apply(source) {}
};
Foo.prototype.qux = function () {};
"""


def test_javascript_class_expressions_assigned_to_names_and_properties() -> None:
    found = names(WEBPACK_JS, "javascript")
    assert {"MultiCompiler", "MultiCompiler.run", "MultiCompiler.options"} <= set(found)
    assert {"MultiCompiler.Template", "MultiCompiler.Template.apply", "Foo.qux"} <= set(found)


UMD_JS = """\
(function (root, factory) {
  if (typeof define === "function" && define.amd) define([], factory);
  else root.lib = factory();
})(this, function () {
  "use strict";
  function hooks() { return hookCallback.apply(null, arguments); }
  var api = {
    clone: function (a) { return a; },
    parse(text) { return text; },
  };
  return api;
});
;(function () {
  function iife() { function helper() {} }
})();
"""


def test_javascript_iife_and_umd_bodies_are_listed() -> None:
    symbols = analyze(UMD_JS.encode(), "javascript").symbols
    found = {s.qualname: s.nested for s in symbols}
    assert {"hooks", "api.clone", "api.parse", "iife"} <= set(found)
    assert found["iife.helper"] is True  # one level inside a function body, marked nested


def test_rust_impl_blocks_and_associated_types() -> None:
    source = """\
pub trait Service { type Response; fn call(&self); }
impl<T: Clone> Service for Wrapper<T> {
    type Response = T;
    fn call(&self) { fn local() {} }
}
"""
    found = [s.compact() for s in analyze(source.encode(), "rust").symbols]
    assert "1 type Service.Response" in found
    assert "2-5 impl Wrapper" in found and "3 type Wrapper.Response" in found
    assert "4 function Wrapper.call.local (nested)" in found


def test_go_interface_methods_are_listed() -> None:
    source = "package p\n\ntype Store interface {\n\tGet(key string) string\n\tput(v int)\n}\n"
    symbols = analyze(source.encode(), "go").symbols
    assert [(s.qualname, s.exported) for s in symbols[1:]] == [("Store.Get", True), ("Store.put", False)]


def test_parse_errors_state_how_much_parsed() -> None:
    analysis = analyze(b"int ok(void) { return 1; }\n@@@ garbage ((( here\nint after(void);\n", "c")
    note = analysis.parse_note()
    assert analysis.parse_errors and note is not None
    assert "% of its lines hold text the grammar could not parse" in note
    assert 0 < analysis.unparsed < 1
    assert analyze(b"int ok(void) { return 1; }\n", "c").parse_note() is None


def test_one_error_node_over_a_whole_file_of_clean_definitions_is_not_called_unparsed() -> None:
    # an unclosed `struct {` makes one ERROR node span the file (as a stray token does in
    # effect's Schema.ts), yet every function in it parses and is listed: the note must not
    # say that no line parsed cleanly
    body = "".join(f"int f{i}(int x)\n{{\n  return x + {i};\n}}\n" for i in range(30))
    analysis = analyze(("struct {\n" + body).encode(), "cpp")
    assert len(analysis.symbols) == 30 and analysis.parse_errors
    note = analysis.parse_note()
    assert note is not None and note.startswith(
        "the file has syntax errors: 1% of its lines hold text the grammar could not parse "
        "(inside error regions spanning 100% of the file)"
    )
    assert 0 < analysis.unparsed < 0.05  # only the rejected `struct {` line counts...
    assert analysis.error_region == 1.0  # ...while the ERROR node's span is still measured


OPENSSL_STYLE_HEADER = """\
#include <openssl/types.h>
typedef STACK_OF(X509_ALGOR) X509_ALGORS;
CRYPTO_THREAD_ID CRYPTO_THREAD_get_current_id(void);
ASN1_UTF8STRING
*OSSL_CRMF_MSG_get0_regCtrl_regToken(const OSSL_CRMF_MSG *msg);
OSSL_DEPRECATEDIN_3_0 int (*EVP_CIPHER_meth_get_init(const EVP_CIPHER *cipher))(EVP_CIPHER_CTX *ctx,
    int enc);
OSSL_STORE_SEARCH *OSSL_STORE_SEARCH_by_issuer_serial(X509_NAME *name,
    const ASN1_INTEGER
    *serial);
int BIO_printf(BIO *bio, const char *format, ...)
    ossl_bio__attr__((__format__(ossl_bio__printf__, 2, 3)));
CURL_EXTERN CURLFORMcode CURL_DEPRECATED(7.56.0, "Use curl_mime_init()")
curl_formadd(struct curl_httppost **httppost, ...);
gint g_vsnprintf (gchar *string, gulong n, gchar const *format, va_list args)
    G_GNUC_PRINTF(3, 0);

GLIB_AVAILABLE_IN_ALL
void g_nullify_pointer (gpointer *nullify_location);
typedef enum
{
  G_THREAD_PRIORITY_LOW
} GThreadPriority GLIB_DEPRECATED_TYPE_IN_2_32;
static BROTLI_BOOL AttachCompoundDictionary(BrotliDecoderState* state, size_t size) {
  return BROTLI_TRUE;
}
"""


def test_all_caps_return_types_and_annotation_macros_in_c_headers() -> None:
    """An all-caps word right before a function's name is its return type, not an annotation
    to blank; annotations with string arguments, after a declaration on their own line, or
    after a typedef's name are blanked; a prototype the grammar leaves in an ERROR node is
    still listed."""
    found = names(OPENSSL_STYLE_HEADER, "c")
    assert {
        "X509_ALGORS", "CRYPTO_THREAD_get_current_id", "OSSL_CRMF_MSG_get0_regCtrl_regToken",
        "EVP_CIPHER_meth_get_init", "OSSL_STORE_SEARCH_by_issuer_serial", "BIO_printf",
        "curl_formadd", "g_vsnprintf", "g_nullify_pointer", "GThreadPriority",
        "AttachCompoundDictionary",
    } <= set(found), found  # fmt: skip
    assert not {"X509_ALGOR", "int", "GLIB_DEPRECATED_TYPE_IN_2_32"} & set(found)


BOOST_CLASS = """\
template <typename Socket, typename Handler>
class io_uring_socket_accept_op :
  public io_uring_socket_accept_op_base<Socket>
{
public:
  BOOST_ASIO_DEFINE_HANDLER_PTR(io_uring_socket_accept_op);

  io_uring_socket_accept_op(const boost::system::error_code& success_ec, Socket& peer)
    : io_uring_socket_accept_op_base<Socket>(success_ec, peer)
  {
  }
};
"""


def test_macro_calls_in_a_class_body_are_not_methods() -> None:
    found = set(names(BOOST_CLASS, "cpp"))
    assert "io_uring_socket_accept_op.io_uring_socket_accept_op" in found
    assert not any("BOOST_ASIO" in n for n in found), found


def test_alternative_repairs_each_start_from_the_same_text() -> None:
    """A tuple of repairs is alternatives: each is tried on the same source, the best parse
    is kept (the C and the C++ reading of an all-caps word before a name)."""
    from mira_jupyter.tools.treesitter_base import error_bytes, parse_best
    from mira_jupyter.tools.treesitter_c import repair_macros

    source = b"class X {\n public:\n  BOOST_ASIO_CONSTEXPR X() : a_(0) {}\n  int a_;\n};\n"
    kept = repair_macros(source, keep_types=True)
    assert b"BOOST_ASIO_CONSTEXPR" in kept and b"BOOST_ASIO_CONSTEXPR" not in repair_macros(source)
    seen = []

    def spy(text: bytes) -> bytes:
        seen.append(text)
        return text.replace(b"BOOST_ASIO_CONSTEXPR", b" " * len(b"BOOST_ASIO_CONSTEXPR"))

    broken = source.replace(b"int a_;", b"int a_ = ;")
    root, text = parse_best("cpp", broken, [(lambda t: t.replace(b"class", b"clas!"), spy)])
    assert seen == [broken]  # the second alternative got the original, not the first's output
    assert b"clas!" not in text and error_bytes(root) <= error_bytes(parse_best("cpp", broken, [])[0])


def test_javascript_object_methods_inside_functions_and_computed_class_members() -> None:
    """Methods of an object literal bound inside a function are listed (nested, one level),
    string-named object methods lose their quotes, computed class member names are kept."""
    source = """\
class CodePath {
  traverseSegments(callback) {
    const controller = {
      skip() { skipped.add(segment); },
      "Program:exit"() { broken = true; },
    };
  }
  [Symbol.iterator]() { return this.items.values(); }
}
"""
    symbols = analyze(source.encode(), "javascript").symbols
    found = {s.qualname: s for s in symbols}
    assert found["CodePath.traverseSegments.controller.skip"].nested
    assert "CodePath.traverseSegments.controller.Program:exit" in found
    assert "CodePath.[Symbol.iterator]" in found


def test_javascript_iife_run_with_call_this_is_listed() -> None:
    """lodash's `;(function() { ... }.call(this));` wrapper hides every function it defines."""
    source = ";(function() {\n  function arrayPush(array, values) {\n    return array;\n  }\n}.call(this));\n"
    assert "arrayPush" in names(source, "javascript")


def test_c_annotations_between_type_and_name_and_k_and_r_parameter_wrappers() -> None:
    source = """\
typedef png_struct * PNG_RESTRICT png_structrp;
typedef voidpf (*alloc_func) OF((voidpf opaque, uInt items, uInt size));
static FASTCALL_ATTR JSOBJ FASTCALL_MSVC decode_true(struct DecoderState *ds)
{
  return 0;
}
"""
    found = names(source, "c")
    assert {"png_structrp", "alloc_func", "decode_true"} <= set(found), found
    assert not {"PNG_RESTRICT", "FASTCALL_MSVC", "OF"} & set(found)


CALLING_CONVENTION_TYPEDEFS = """\
#define APIENTRYP APIENTRY *
typedef void (APIENTRYP PFNGLCULLFACEPROC) (GLenum mode);
typedef void (GLAPIENTRY * PFNGLBLENDFUNCPROC)(GLenum sfactor, GLenum dfactor);
typedef int (WINAPI *PFNWGLSWAPINTERVALEXTPROC)(int interval);
typedef EGLBoolean (EGLAPIENTRYP PFNEGLCOPYBUFFERSPROC) (EGLDisplay dpy, EGLSurface surface, EGLNativePixmapType target);
typedef EGLContext (EGLAPIENTRYP PFNEGLCREATECONTEXTPROC) (EGLDisplay dpy, EGLConfig config, const EGLint *attrib_list);
typedef SDL_AssertState (SDLCALL *SDL_AssertionHandler)(
                                 const SDL_AssertData* data, void* userdata);
typedef void (*plain_callback)(int code);
"""


def test_function_pointer_typedefs_behind_calling_convention_macros() -> None:
    """OpenGL/EGL/SDL headers put a calling-convention macro inside the parentheses; each
    typedef is listed under its own name, and no parameter is taken for a typedef's name."""
    for language in ("c", "cpp"):
        assert names(CALLING_CONVENTION_TYPEDEFS, language) == [
            "PFNGLCULLFACEPROC", "PFNGLBLENDFUNCPROC", "PFNWGLSWAPINTERVALEXTPROC",
            "PFNEGLCOPYBUFFERSPROC", "PFNEGLCREATECONTEXTPROC", "SDL_AssertionHandler",
            "plain_callback",
        ], language  # fmt: skip
