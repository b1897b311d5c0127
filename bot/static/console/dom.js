// Small DOM helpers. Text always goes in through textContent, never as HTML: much of it
// is what a customer wrote.

export const $ = (id) => document.getElementById(id);

export function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}
