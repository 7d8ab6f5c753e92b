-- The ERP tables the portal shares (SQLite). Idempotent: safe to run again.
-- Same rules as postgresql.sql: a change to erp_pedido or any of its children bumps the order's
-- versao (+1, unless the writer already changed it) and atualizado_em; a change to erp_cliente
-- bumps its own; rows the portal writes bump nothing. SQLite has no NOTIFY: the follower polls.
-- Row triggers only (SQLite has no statement triggers). A child trigger's UPDATE of erp_pedido
-- fires erp_pedido_bump, which sees versao already changed and only stamps atualizado_em.
CREATE TABLE IF NOT EXISTS erp_cliente (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    empresa_id BIGINT NOT NULL,
    nome VARCHAR(200) NOT NULL,
    cpf_cnpj VARCHAR(18) NOT NULL DEFAULT '',
    email VARCHAR(254) NOT NULL DEFAULT '',
    ativo BOOLEAN NOT NULL DEFAULT 1,
    versao BIGINT NOT NULL DEFAULT 1,
    atualizado_em DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);
CREATE INDEX IF NOT EXISTS erp_cliente_empresa ON erp_cliente (empresa_id, id);

CREATE TABLE IF NOT EXISTS erp_pedido (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    empresa_id BIGINT NOT NULL,
    cliente_id BIGINT NOT NULL REFERENCES erp_cliente (id) ON DELETE CASCADE,
    numero BIGINT NOT NULL,
    status CHAR(3) NOT NULL CHECK (status IN ('PRO', 'APR', 'PED', 'CAN')),
    emitido_em DATE NOT NULL,
    validade DATE,
    vendedor VARCHAR(120) NOT NULL DEFAULT '',
    forma_pagamento VARCHAR(120) NOT NULL DEFAULT '',
    condicao_pagamento VARCHAR(200) NOT NULL DEFAULT '',
    observacoes TEXT NOT NULL DEFAULT '',
    valor_produtos NUMERIC(14, 2) NOT NULL DEFAULT 0,
    valor_servicos NUMERIC(14, 2) NOT NULL DEFAULT 0,
    desconto NUMERIC(14, 2) NOT NULL DEFAULT 0,
    frete NUMERIC(14, 2) NOT NULL DEFAULT 0,
    valor_total NUMERIC(14, 2) NOT NULL DEFAULT 0,
    aprovado_em DATETIME,
    aprovado_por VARCHAR(254),
    versao BIGINT NOT NULL DEFAULT 1,
    atualizado_em DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    UNIQUE (empresa_id, numero)
);
CREATE INDEX IF NOT EXISTS erp_pedido_cliente ON erp_pedido (cliente_id);

CREATE TABLE IF NOT EXISTS erp_pedido_item (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pedido_id BIGINT NOT NULL REFERENCES erp_pedido (id) ON DELETE CASCADE,
    sequencia INTEGER NOT NULL,
    tipo CHAR(1) NOT NULL CHECK (tipo IN ('P', 'S')),
    codigo VARCHAR(60) NOT NULL DEFAULT '',
    descricao VARCHAR(300) NOT NULL,
    unidade VARCHAR(10) NOT NULL DEFAULT '',
    quantidade NUMERIC(14, 4) NOT NULL,
    valor_unitario NUMERIC(14, 4) NOT NULL,
    desconto NUMERIC(14, 2) NOT NULL DEFAULT 0,
    valor_total NUMERIC(14, 2) NOT NULL,
    informacoes TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS erp_pedido_item_pedido ON erp_pedido_item (pedido_id);

CREATE TABLE IF NOT EXISTS erp_pedido_parcela (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pedido_id BIGINT NOT NULL REFERENCES erp_pedido (id) ON DELETE CASCADE,
    numero INTEGER NOT NULL,
    vencimento DATE NOT NULL,
    valor NUMERIC(14, 2) NOT NULL
);
CREATE INDEX IF NOT EXISTS erp_pedido_parcela_pedido ON erp_pedido_parcela (pedido_id);

CREATE TABLE IF NOT EXISTS erp_pedido_contrato (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pedido_id BIGINT NOT NULL UNIQUE REFERENCES erp_pedido (id) ON DELETE CASCADE,
    titulo VARCHAR(200) NOT NULL,
    conteudo_html TEXT,
    arquivo BLOB,
    assinatura VARCHAR(7) NOT NULL DEFAULT 'MANUAL' CHECK (assinatura IN ('MANUAL', 'DIGITAL')),
    atualizado_em DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);

CREATE TABLE IF NOT EXISTS erp_contrato_signatario (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    contrato_id BIGINT NOT NULL REFERENCES erp_pedido_contrato (id) ON DELETE CASCADE,
    email VARCHAR(254) NOT NULL,
    papel VARCHAR(10) NOT NULL CHECK (papel IN ('PARTE', 'TESTEMUNHA'))
);
CREATE INDEX IF NOT EXISTS erp_contrato_signatario_contrato
    ON erp_contrato_signatario (contrato_id);

CREATE TABLE IF NOT EXISTS erp_pedido_anexo (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pedido_id BIGINT NOT NULL REFERENCES erp_pedido (id) ON DELETE CASCADE,
    tipo VARCHAR(20) NOT NULL CHECK (tipo IN ('PROPOSTA', 'CONTRATO_ASSINADO', 'OUTRO')),
    nome VARCHAR(255) NOT NULL,
    mime VARCHAR(100) NOT NULL,
    conteudo BLOB NOT NULL,
    sha256 CHAR(64) NOT NULL,
    origem VARCHAR(6) NOT NULL CHECK (origem IN ('ERP', 'PORTAL')),
    criado_em DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);
CREATE INDEX IF NOT EXISTS erp_pedido_anexo_pedido ON erp_pedido_anexo (pedido_id);

CREATE TABLE IF NOT EXISTS erp_portal_evento (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    empresa_id BIGINT NOT NULL,
    pedido_id BIGINT,
    tipo VARCHAR(20) NOT NULL CHECK (
        tipo IN ('CONTRATO_ENVIADO', 'CONTRATO_ASSINADO', 'PROPOSTA_APROVADA', 'PROPOSTA_RECUSADA')
    ),
    dados TEXT NOT NULL DEFAULT '{}',
    criado_em DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);
CREATE INDEX IF NOT EXISTS erp_portal_evento_pedido ON erp_portal_evento (pedido_id);

CREATE TRIGGER IF NOT EXISTS erp_cliente_bump AFTER UPDATE ON erp_cliente FOR EACH ROW
BEGIN
    UPDATE erp_cliente
       SET versao = CASE WHEN NEW.versao = OLD.versao THEN OLD.versao + 1 ELSE NEW.versao END,
           atualizado_em = strftime('%Y-%m-%d %H:%M:%f', 'now')
     WHERE id = NEW.id;
END;

CREATE TRIGGER IF NOT EXISTS erp_pedido_bump AFTER UPDATE ON erp_pedido FOR EACH ROW
BEGIN
    UPDATE erp_pedido
       SET versao = CASE WHEN NEW.versao = OLD.versao THEN OLD.versao + 1 ELSE NEW.versao END,
           atualizado_em = strftime('%Y-%m-%d %H:%M:%f', 'now')
     WHERE id = NEW.id;
END;

CREATE TRIGGER IF NOT EXISTS erp_pedido_item_ins AFTER INSERT ON erp_pedido_item FOR EACH ROW 
BEGIN
    UPDATE erp_pedido SET versao = versao + 1 WHERE id = NEW.pedido_id;
END;

CREATE TRIGGER IF NOT EXISTS erp_pedido_item_upd AFTER UPDATE ON erp_pedido_item FOR EACH ROW 
BEGIN
    UPDATE erp_pedido SET versao = versao + 1 WHERE id = NEW.pedido_id OR id = OLD.pedido_id;
END;

CREATE TRIGGER IF NOT EXISTS erp_pedido_item_del AFTER DELETE ON erp_pedido_item FOR EACH ROW 
BEGIN
    UPDATE erp_pedido SET versao = versao + 1 WHERE id = OLD.pedido_id;
END;

CREATE TRIGGER IF NOT EXISTS erp_pedido_parcela_ins AFTER INSERT ON erp_pedido_parcela FOR EACH ROW 
BEGIN
    UPDATE erp_pedido SET versao = versao + 1 WHERE id = NEW.pedido_id;
END;

CREATE TRIGGER IF NOT EXISTS erp_pedido_parcela_upd AFTER UPDATE ON erp_pedido_parcela FOR EACH ROW 
BEGIN
    UPDATE erp_pedido SET versao = versao + 1 WHERE id = NEW.pedido_id OR id = OLD.pedido_id;
END;

CREATE TRIGGER IF NOT EXISTS erp_pedido_parcela_del AFTER DELETE ON erp_pedido_parcela FOR EACH ROW 
BEGIN
    UPDATE erp_pedido SET versao = versao + 1 WHERE id = OLD.pedido_id;
END;

CREATE TRIGGER IF NOT EXISTS erp_pedido_contrato_ins AFTER INSERT ON erp_pedido_contrato FOR EACH ROW 
BEGIN
    UPDATE erp_pedido SET versao = versao + 1 WHERE id = NEW.pedido_id;
END;

CREATE TRIGGER IF NOT EXISTS erp_pedido_contrato_upd AFTER UPDATE ON erp_pedido_contrato FOR EACH ROW 
BEGIN
    UPDATE erp_pedido SET versao = versao + 1 WHERE id = NEW.pedido_id OR id = OLD.pedido_id;
END;

CREATE TRIGGER IF NOT EXISTS erp_pedido_contrato_del AFTER DELETE ON erp_pedido_contrato FOR EACH ROW 
BEGIN
    UPDATE erp_pedido SET versao = versao + 1 WHERE id = OLD.pedido_id;
END;

CREATE TRIGGER IF NOT EXISTS erp_contrato_signatario_ins AFTER INSERT ON erp_contrato_signatario FOR EACH ROW 
BEGIN
    UPDATE erp_pedido SET versao = versao + 1 WHERE id = (SELECT pedido_id FROM erp_pedido_contrato WHERE id = NEW.contrato_id);
END;

CREATE TRIGGER IF NOT EXISTS erp_contrato_signatario_upd AFTER UPDATE ON erp_contrato_signatario FOR EACH ROW 
BEGIN
    UPDATE erp_pedido SET versao = versao + 1 WHERE id = (SELECT pedido_id FROM erp_pedido_contrato WHERE id = NEW.contrato_id) OR id = (SELECT pedido_id FROM erp_pedido_contrato WHERE id = OLD.contrato_id);
END;

CREATE TRIGGER IF NOT EXISTS erp_contrato_signatario_del AFTER DELETE ON erp_contrato_signatario FOR EACH ROW 
BEGIN
    UPDATE erp_pedido SET versao = versao + 1 WHERE id = (SELECT pedido_id FROM erp_pedido_contrato WHERE id = OLD.contrato_id);
END;

CREATE TRIGGER IF NOT EXISTS erp_pedido_anexo_ins AFTER INSERT ON erp_pedido_anexo FOR EACH ROW WHEN NEW.origem = 'ERP' 
BEGIN
    UPDATE erp_pedido SET versao = versao + 1 WHERE id = NEW.pedido_id;
END;

CREATE TRIGGER IF NOT EXISTS erp_pedido_anexo_upd AFTER UPDATE ON erp_pedido_anexo FOR EACH ROW WHEN NEW.origem = 'ERP' OR OLD.origem = 'ERP' 
BEGIN
    UPDATE erp_pedido SET versao = versao + 1 WHERE id = NEW.pedido_id OR id = OLD.pedido_id;
END;

CREATE TRIGGER IF NOT EXISTS erp_pedido_anexo_del AFTER DELETE ON erp_pedido_anexo FOR EACH ROW WHEN OLD.origem = 'ERP' 
BEGIN
    UPDATE erp_pedido SET versao = versao + 1 WHERE id = OLD.pedido_id;
END;

CREATE TRIGGER IF NOT EXISTS erp_pedido_contrato_stamp AFTER UPDATE ON erp_pedido_contrato
FOR EACH ROW WHEN NEW.atualizado_em = OLD.atualizado_em
BEGIN
    UPDATE erp_pedido_contrato SET atualizado_em = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE id = NEW.id;
END;
