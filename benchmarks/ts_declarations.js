// Declarations the TypeScript compiler itself parses in each file: the second judge of
// symbols_vs_ctags.py for TypeScript and JavaScript, where ctags 5.9's parser loses track.
//
//   node ts_declarations.js TYPESCRIPT_LIB_DIR < file-list > declarations.json
//
// TYPESCRIPT_LIB_DIR is the unpacked `npm pack typescript@5.9.3` package's lib/ folder.
// Output: {path: [[name, first line, last line], ...]} (1-based lines), for every function,
// method, constructor, accessor, class, interface, type alias, enum, namespace, method or
// call signature, and every variable, property or assignment whose value is a function or
// class.
"use strict";
const fs = require("fs");
const path = require("path");
const ts = require(path.join(process.argv[2], "typescript.js"));

const FUNCTION_VALUES = new Set([
  ts.SyntaxKind.ArrowFunction, ts.SyntaxKind.FunctionExpression, ts.SyntaxKind.ClassExpression,
]);

function nameOf(node, source) {
  const name = node.name;
  if (!name) return node.kind === ts.SyntaxKind.Constructor ? "constructor" : "";
  if (ts.isIdentifier(name) || ts.isPrivateIdentifier(name)) return name.text;
  if (ts.isStringLiteral(name) || ts.isNumericLiteral(name)) return name.text;
  return name.getText(source);
}

function unwrap(node) {
  while (node && (ts.isParenthesizedExpression(node) || ts.isAsExpression(node)
      || ts.isSatisfiesExpression?.(node) || ts.isNonNullExpression(node))) {
    node = node.expression;
  }
  return node;
}

function declarations(file) {
  const text = fs.readFileSync(file, "utf8");
  const kind = /\.(js|mjs|cjs|jsx)$/.test(file) ? ts.ScriptKind.JS
    : file.endsWith(".tsx") ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind);
  const out = [];
  const add = (name, node) => {
    if (!name) return;
    const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
    const end = source.getLineAndCharacterOfPosition(node.getEnd()).line + 1;
    out.push([name, start, end]);
  };
  const visit = (node) => {
    if (ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node)
        || ts.isMethodSignature(node) || ts.isConstructorDeclaration(node)
        || ts.isGetAccessorDeclaration(node) || ts.isSetAccessorDeclaration(node)
        || ts.isClassDeclaration(node) || ts.isInterfaceDeclaration(node)
        || ts.isTypeAliasDeclaration(node) || ts.isEnumDeclaration(node)
        || ts.isModuleDeclaration(node) || ts.isClassExpression(node)) {
      add(nameOf(node, source) || (ts.isFunctionDeclaration(node) ? "default" : ""), node);
    } else if (ts.isConstructSignatureDeclaration(node)) {
      add("new", node);
    } else if ((ts.isVariableDeclaration(node) || ts.isPropertyDeclaration(node)
        || ts.isPropertyAssignment(node)) && node.initializer
        && FUNCTION_VALUES.has(unwrap(node.initializer).kind)) {
      add(nameOf(node, source), node);
    } else if (ts.isPropertySignature(node) && node.type && ts.isFunctionTypeNode(node.type)) {
      add(nameOf(node, source), node);
    } else if (ts.isBinaryExpression(node)
        && node.operatorToken.kind === ts.SyntaxKind.EqualsToken
        && FUNCTION_VALUES.has(unwrap(node.right).kind)) {
      const left = node.left;
      add(ts.isPropertyAccessExpression(left) ? left.name.text : left.getText(source), node);
    } else if (ts.isExportAssignment(node) && FUNCTION_VALUES.has(unwrap(node.expression).kind)) {
      add("default", node);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

const files = fs.readFileSync(0, "utf8").split("\n").filter(Boolean);
const result = {};
for (const file of files) {
  try {
    result[file] = declarations(file);
  } catch (err) {
    result[file] = [];
  }
}
process.stdout.write(JSON.stringify(result));
