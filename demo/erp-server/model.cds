// The demo ERP: a small sales model served over OData v4 by SAP CAP.
namespace tributary.demo.erp;
using { tributary.demo.erp as erp } from './model';
using { managed } from '@sap/cds/common';

entity Customers : managed {
  key ID      : String(40);
  name        : String(120) not null;
  email       : String(200);
  country     : String(2);
  creditLimit : Decimal(15, 2);
}

entity SalesOrders : managed {
  key ID      : String(40);
  customer    : Association to Customers;
  status      : String(20) default 'open';
  currency    : String(3) default 'EUR';
  netAmount   : Decimal(15, 2);
  orderDate   : Date;
  items       : Composition of many SalesOrderItems on items.order = $self;
}

entity SalesOrderItems {
  key order   : Association to SalesOrders;
  key line    : Integer;
  product     : String(40) not null;
  quantity    : Decimal(13, 3) not null;
  unitPrice   : Decimal(15, 2) not null;
}

entity Invoices : managed {
  key ID      : String(40);
  order       : Association to SalesOrders;
  customer    : Association to Customers;
  amount      : Decimal(15, 2) not null;
  currency    : String(3) default 'EUR';
  dueDate     : Date;
  paid        : Boolean default false;
}

@path: '/erp'
service ErpService {
  @cds.query.limit: { default: 100, max: 1000 }
  entity Customers       as projection on erp.Customers;
  @cds.query.limit: { default: 100, max: 1000 }
  entity SalesOrders     as projection on erp.SalesOrders;
  entity SalesOrderItems as projection on erp.SalesOrderItems;
  @cds.query.limit: { default: 100, max: 1000 }
  entity Invoices        as projection on erp.Invoices;
}

// modifiedAt doubles as the ETag: a PATCH with a stale If-Match gets 412.
annotate Customers with { modifiedAt @odata.etag };
annotate SalesOrders with { modifiedAt @odata.etag };
annotate Invoices with { modifiedAt @odata.etag };
