// The 8259A pair driven as Linux's i8259 code and a BIOS drive it.

import { describe, expect, it } from 'vitest';
import { Pic8259 } from '../../devices/pic8259.js';

/** The init sequence Linux (and every BIOS) sends: ICW1 edge+ICW4, ICW2 base, ICW3 cascade, ICW4 8086. */
function initPics(masterBase = 0x20, slaveBase = 0x28, icw4 = 0x01) {
  const pic = new Pic8259();
  const w = (p: number, v: number) => pic.portWrite(p, 1, v);
  w(0x20, 0x11);
  w(0x21, masterBase);
  w(0x21, 0x04); // slave on IR2
  w(0x21, icw4);
  w(0xa0, 0x11);
  w(0xa1, slaveBase);
  w(0xa1, 0x02); // slave identity 2
  w(0xa1, icw4);
  w(0x21, 0x00);
  w(0xa1, 0x00);
  const r = (p: number) => pic.portRead(p, 1);
  return { pic, w, r };
}

describe('8259A PIC pair', () => {
  it('init sequence, then IRQ 1 -> INTR, INTA returns vector 0x21 and moves it in service; EOI clears it', () => {
    const { pic, w, r } = initPics();
    expect(pic.hasInterrupt()).toBe(false);
    pic.setIrq(1, true);
    pic.setIrq(1, false); // an ISA edge
    expect(pic.hasInterrupt()).toBe(true);
    expect(r(0x20)).toBe(0x02); // IRR (default OCW3 read)
    expect(pic.acknowledge()).toBe(0x21);
    expect(pic.hasInterrupt()).toBe(false);
    w(0x20, 0x0b); // OCW3: read ISR
    expect(r(0x20)).toBe(0x02);
    w(0x20, 0x20); // non-specific EOI
    expect(r(0x20)).toBe(0x00);
    expect(pic.delivered[1]).toBe(1);
    expect(pic.eois).toBe(1);
  });

  it('a masked line waits in IRR until OCW1 unmasks it', () => {
    const { pic, w, r } = initPics();
    w(0x21, 0xff);
    expect(r(0x21)).toBe(0xff);
    pic.setIrq(4, true);
    expect(pic.hasInterrupt()).toBe(false);
    expect(r(0x20)).toBe(0x10);
    w(0x21, 0xef);
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x24);
  });

  it('an IRQ in service blocks lower priorities but not higher ones (fully nested)', () => {
    const { pic, w } = initPics();
    pic.setIrq(3, true);
    expect(pic.acknowledge()).toBe(0x23);
    pic.setIrq(5, true);
    expect(pic.hasInterrupt()).toBe(false);
    pic.setIrq(0, true);
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x20);
    w(0x20, 0x20); // EOI IRQ 0
    expect(pic.hasInterrupt()).toBe(false); // IRQ 3 still in service
    w(0x20, 0x20); // EOI IRQ 3
    expect(pic.acknowledge()).toBe(0x25);
  });

  it('cascaded slave IRQ 12 -> vector 0x2C, master IR2 and slave IR4 in service until both EOIs', () => {
    const { pic, w, r } = initPics();
    pic.setIrq(12, true);
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x2c);
    expect(pic.isr).toBe((1 << 12) | (1 << 2));
    pic.setIrq(12, false);
    pic.setIrq(14, true); // lower priority than 12 on the slave
    expect(pic.hasInterrupt()).toBe(false);
    w(0xa0, 0x20); // slave EOI
    expect(pic.hasInterrupt()).toBe(false); // master IR2 still in service
    w(0x20, 0x20); // master EOI
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x2e);
    w(0xa0, 0x0b);
    expect(r(0xa0)).toBe(0x40);
  });

  it('a level line that drops before INTA gives spurious IRQ 7 (vector 0x27) with no ISR bit', () => {
    const { pic, w } = initPics();
    w(0x4d0, 0x20); // IRQ 5 level-triggered
    pic.setIrq(5, true);
    expect(pic.hasInterrupt()).toBe(true);
    pic.setIrq(5, false);
    expect(pic.acknowledge()).toBe(0x27);
    expect(pic.isr).toBe(0);
    expect(pic.spurious).toBe(1);
  });

  it('level-triggered lines (ELCR) request again after EOI while still high; edge lines do not', () => {
    const { pic, w, r } = initPics();
    w(0x4d1, 0x0c); // IRQ 10, 11 level
    expect(r(0x4d1)).toBe(0x0c);
    pic.setIrq(10, true);
    expect(pic.acknowledge()).toBe(0x2a);
    w(0xa0, 0x20);
    w(0x20, 0x20);
    expect(pic.acknowledge()).toBe(0x2a); // line still high
    w(0xa0, 0x20);
    w(0x20, 0x20);
    pic.setIrq(10, false);
    expect(pic.hasInterrupt()).toBe(false); // the slave's request is gone, so is master IR2's
    pic.setIrq(6, true); // edge, held high
    expect(pic.acknowledge()).toBe(0x26);
    w(0x20, 0x20);
    expect(pic.hasInterrupt()).toBe(false);
  });

  it('ELCR reserved bits (IRQ 0, 1, 2, 8, 13) stay edge', () => {
    const { w, r } = initPics();
    w(0x4d0, 0xff);
    w(0x4d1, 0xff);
    expect(r(0x4d0)).toBe(0xf8);
    expect(r(0x4d1)).toBe(0xde);
  });

  it('auto-EOI mode leaves nothing in service', () => {
    const { pic, r, w } = initPics(0x08, 0x70, 0x03);
    pic.setIrq(0, true);
    expect(pic.acknowledge()).toBe(0x08);
    w(0x20, 0x0b);
    expect(r(0x20)).toBe(0);
    pic.setIrq(9, true);
    expect(pic.acknowledge()).toBe(0x71);
    expect(pic.isr).toBe(0);
  });

  it('special fully nested master: a higher-priority slave IRQ nests while another slave IRQ is in service', () => {
    const plain = initPics();
    plain.pic.setIrq(12, true);
    expect(plain.pic.acknowledge()).toBe(0x2c);
    plain.pic.setIrq(8, true);
    expect(plain.pic.hasInterrupt()).toBe(false); // fully nested: master IR2 in service blocks it
    const { pic } = initPics(0x20, 0x28, 0x11); // ICW4: 8086 + SFNM
    pic.setIrq(12, true);
    expect(pic.acknowledge()).toBe(0x2c);
    pic.setIrq(14, true);
    expect(pic.hasInterrupt()).toBe(false); // lower than IR12 on the slave
    pic.setIrq(8, true);
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x28);
    expect(pic.isr).toBe((1 << 8) | (1 << 12) | (1 << 2));
  });

  it('specific EOI clears the named level; set-priority rotation makes IRQ 4 the highest', () => {
    const { pic, w } = initPics();
    pic.setIrq(3, true);
    pic.acknowledge();
    w(0x20, 0x63); // specific EOI, level 3
    expect(pic.isr).toBe(0);
    w(0x20, 0xc3); // set priority: IR3 lowest -> IR4 highest
    pic.setIrq(2 + 8, true); // IRQ 10 arrives on the slave -> master IR2
    pic.setIrq(4, true);
    pic.setIrq(1, true);
    expect(pic.acknowledge()).toBe(0x24);
    expect(pic.hasInterrupt()).toBe(false); // IR4 in service outranks everything now
    w(0x20, 0x20);
    expect(pic.acknowledge()).toBe(0x21); // IR1 before IR2 in the rotated order 4..7,0..3
    w(0x20, 0x20);
    expect(pic.acknowledge()).toBe(0x2a);
  });

  it('rotate on non-specific EOI makes the served line lowest priority', () => {
    const { pic, w } = initPics();
    pic.setIrq(0, true);
    pic.setIrq(0, false);
    expect(pic.acknowledge()).toBe(0x20);
    w(0x20, 0xa0); // rotate on non-specific EOI: IR0 becomes lowest
    pic.setIrq(0, true);
    pic.setIrq(7, true);
    expect(pic.acknowledge()).toBe(0x27);
  });

  it('poll mode: the command-port read returns 0x80|level and acknowledges it', () => {
    const { pic, w, r } = initPics();
    w(0x20, 0x0c); // OCW3 poll
    expect(r(0x20)).toBe(0x00);
    pic.setIrq(6, true);
    w(0x20, 0x0c);
    expect(r(0x20)).toBe(0x86);
    expect(pic.isr).toBe(1 << 6);
    expect(pic.hasInterrupt()).toBe(false);
  });

  it('special mask mode lets lower priorities in while the in-service level is masked', () => {
    const { pic, w } = initPics();
    pic.setIrq(2 + 1, true);
    expect(pic.acknowledge()).toBe(0x23);
    pic.setIrq(5, true);
    expect(pic.hasInterrupt()).toBe(false);
    w(0x21, 0x08); // mask IR3
    w(0x20, 0x68); // OCW3: set special mask mode
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x25);
    w(0x20, 0x48); // reset special mask mode
    w(0x20, 0x65); // specific EOI 5
    expect(pic.isr).toBe(1 << 3);
  });

  it('re-initialising clears IMR and in-service state; the INTR output reports changes', () => {
    const { pic, w, r } = initPics();
    const seen: boolean[] = [];
    pic.onIntrChange = (l) => seen.push(l);
    w(0x21, 0xf0);
    pic.setIrq(1, true);
    pic.acknowledge();
    pic.setIrq(3, true);
    expect(seen).toEqual([true, false]);
    w(0x20, 0x11);
    expect(r(0x21)).toBe(0);
    expect(pic.isr).toBe(0);
    w(0x21, 0x30);
    w(0x21, 0x04);
    w(0x21, 0x01);
    expect(pic.masterVectorBase).toBe(0x30);
    expect(pic.hasInterrupt()).toBe(false); // line 3 was already high: needs a new edge
    pic.setIrq(3, false);
    pic.setIrq(3, true);
    expect(pic.acknowledge()).toBe(0x33);
  });
});

describe('8259A reset', () => {
  it('RESET forgets the programming and in-service state; a line held high needs a new edge', () => {
    const { pic, r } = initPics();
    pic.setIrq(3, true);
    expect(pic.acknowledge()).toBe(0x23);
    pic.setIrq(1, true);
    pic.reset();
    expect(pic.hasInterrupt()).toBe(false);
    expect([pic.isr, pic.irr & 0xff, r(0x21)]).toEqual([0, 0, 0]);
    const { w } = { w: (p: number, v: number) => pic.portWrite(p, 1, v) };
    for (const [p, v] of [[0x20, 0x11], [0x21, 0x40], [0x21, 0x04], [0x21, 0x01]]) w(p, v);
    expect(pic.hasInterrupt()).toBe(false);
    pic.setIrq(1, false);
    pic.setIrq(1, true);
    expect(pic.acknowledge()).toBe(0x41);
  });
});
