/* Rupiah inputs (<input data-rupiah>): show thousands separators while typing.
   Indonesian pages group with dots (12.000.000), English ones with commas (12,000,000);
   the server accepts either, and plain digits. Only the digits are kept, so the caret is put
   back after the same number of digits it was after before formatting. */
(function () {
  "use strict";
  var separator = (document.documentElement.lang || "en").toLowerCase().indexOf("id") === 0 ? "." : ",";
  // Digits, this language's thousands separator and blanks only: anything else (the other
  // separator, which may be a decimal point; a minus sign; letters) is left for the server to
  // judge, so its message names the real problem and "9295094.0" never becomes ten times too much.
  var plainAmount = new RegExp("^\\s*(rp\\.?\\s*)?[\\d\\s\\u00a0" + (separator === "." ? "\\." : ",") + "]*$", "i");

  function group(digits) {
    digits = digits.replace(/^0+(?=\d)/, "");
    return digits.replace(/\B(?=(\d{3})+(?!\d))/g, separator);
  }

  function format(input) {
    var value = input.value;
    if (!plainAmount.test(value)) {
      return;
    }
    var caret = input.selectionStart === null ? value.length : input.selectionStart;
    var digitsBeforeCaret = value.slice(0, caret).replace(/\D/g, "").length;
    var digits = value.replace(/\D/g, "");
    var formatted = digits ? group(digits) : "";
    if (formatted === value) {
      return;
    }
    input.value = formatted;
    var position = 0;
    var seen = 0;
    while (position < formatted.length && seen < digitsBeforeCaret) {
      if (/\d/.test(formatted.charAt(position))) {
        seen += 1;
      }
      position += 1;
    }
    if (document.activeElement === input) {
      input.setSelectionRange(position, position);
    }
  }

  function init() {
    var inputs = document.querySelectorAll("input[data-rupiah]");
    Array.prototype.forEach.call(inputs, function (input) {
      format(input);
      input.addEventListener("input", function () {
        format(input);
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
