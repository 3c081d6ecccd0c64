// Small guests shared by the KVM tests (hand-assembled; each byte row is one instruction).

/**
 * 32-bit flat guest at 1 MiB: 16 lines, each 200 rounds of a hash mixed through
 * a memory array with ADD/SHR/XOR/ROL/ADC/LOOP (the carry flag crosses
 * instructions, so a switch between them must carry it), then the hash printed
 * as 8 hex digits through the digit table at 0x100100.
 */
export const CALC = [
  0xbe, 0x78, 0x56, 0x34, 0x12, //            mov esi, 0x12345678
  0xbf, 0x00, 0x00, 0x20, 0x00, //            mov edi, 0x200000
  0xbd, 0x10, 0x00, 0x00, 0x00, //            mov ebp, 16
  0xb9, 0xc8, 0x00, 0x00, 0x00, //      line: mov ecx, 200
  0x81, 0xc6, 0xb9, 0x79, 0x37, 0x9e, // iter: add esi, 0x9e3779b9
  0x89, 0xf0, //                              mov eax, esi
  0xc1, 0xe8, 0x10, //                        shr eax, 16
  0x31, 0x04, 0x8f, //                        xor [edi+ecx*4], eax
  0x03, 0x04, 0x8f, //                        add eax, [edi+ecx*4]
  0xc1, 0xc6, 0x05, //                        rol esi, 5
  0x11, 0xc6, //                              adc esi, eax
  0xe2, 0xe8, //                              loop iter
  0x89, 0xf3, //                              mov ebx, esi
  0xb9, 0x08, 0x00, 0x00, 0x00, //            mov ecx, 8
  0x66, 0xba, 0xf8, 0x03, //                  mov dx, 0x3f8
  0xc1, 0xc3, 0x04, //                   hex: rol ebx, 4
  0x89, 0xd8, //                              mov eax, ebx
  0x83, 0xe0, 0x0f, //                        and eax, 15
  0x0f, 0xb6, 0x80, 0x00, 0x01, 0x10, 0x00, // movzx eax, byte [eax+0x100100]
  0xee, //                                    out dx, al
  0xe2, 0xee, //                              loop hex
  0xb0, 0x0a, //                              mov al, 10
  0xee, //                                    out dx, al
  0x4d, //                                    dec ebp
  0x75, 0xc0, //                              jnz line
  0xfa, 0xf4, 0xeb, 0xfc, //                  cli; hlt; jmp $-2
];
/** The image: code, then the digit table at offset 0x100. */
export function calcImage(): Uint8Array {
  const img = new Uint8Array(0x110);
  img.set(CALC, 0);
  img.set([...'0123456789abcdef'].map((c) => c.charCodeAt(0)), 0x100);
  return img;
}
export const CALC_LINES = 16;

